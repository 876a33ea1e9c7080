import { useApp } from '../app-context.js';
import { useAppearance } from '../desktop/appearance.js';
import { AppHeader } from './AppHeader.js';
import { ChatWindow } from './ChatWindow.js';
import { MainWindow } from './MainWindow.js';
import { FirstUseBar } from './SecurityInfo.js';
import { StartScreen } from './StartScreen.js';

export function App() {
  useAppearance();
  const chatWindowConv = useApp((state) => state.chatWindowConv);
  const inRoom = useApp((state) => state.session.me !== null && state.session.status !== 'offline');

  if (chatWindowConv !== null) return <ChatWindow conv={chatWindowConv} />;
  return (
    <div className="app">
      <AppHeader />
      {inRoom && <FirstUseBar />}
      {inRoom ? <MainWindow /> : <StartScreen />}
    </div>
  );
}
