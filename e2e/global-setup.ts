import { execFileSync } from 'node:child_process';

/** Builds the renderer once; every browser shell in the run serves this build. */
export default function globalSetup(): void {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
}
