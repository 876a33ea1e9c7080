/**
 * Which received files could run code when opened: the app then asks before opening one.
 * Decided from both the type the host detected in the content and the name, because each
 * misses cases: a script is text the detector cannot tell from any other, and a renamed
 * executable still has an executable's content. Either one alone makes a file risky.
 */

/** Types the host's detector (file-type) reports for programs, installers and shortcuts. */
const RISKY_TYPES = new Set([
  'application/x-msdownload',
  'application/x-elf',
  'application/x-mach-binary',
  'application/java-archive',
  'application/java-vm',
  'application/vnd.android.package-archive',
  'application/x-deb',
  'application/x-rpm',
  'application/vnd.ms-cab-compressed',
  'application/vnd.ms-htmlhelp',
  'application/x-cfb',
  'application/x.ms.shortcut',
  'application/x-shockwave-flash',
  'application/wasm',
  'application/vnd.ms-excel.sheet.macroenabled.12',
  'application/vnd.ms-powerpoint.slideshow.macroenabled.12',
]);

/** Endings the desktop runs or hands to an interpreter when a file is opened (Windows, macOS, Linux). */
const RISKY_ENDINGS = new Set([
  // Windows programs, installers, scripts and shortcuts
  'exe', 'com', 'scr', 'pif', 'msi', 'msp', 'msix', 'appx', 'bat', 'cmd', 'ps1', 'psm1', 'vbs', 'vbe', 'js', 'jse', 'wsf', 'wsh',
  'hta', 'cpl', 'lnk', 'url', 'reg', 'inf', 'chm', 'dll', 'sys', 'gadget', 'application', 'xll', 'xlsm', 'docm', 'pptm', 'ppsm',
  // macOS
  'app', 'command', 'pkg', 'dmg', 'scpt', 'workflow',
  // Linux and anywhere
  'sh', 'bash', 'zsh', 'csh', 'fish', 'run', 'bin', 'appimage', 'desktop', 'deb', 'rpm', 'snap', 'flatpakref',
  'py', 'pyw', 'pl', 'rb', 'php', 'jar', 'apk', 'wasm', 'swf',
  // Pages that run scripts when opened in a browser
  'html', 'htm', 'xhtml', 'svg', 'mht', 'mhtml',
]);

export function isRiskyFile(name: string, type: string): boolean {
  if (RISKY_TYPES.has(type.toLowerCase())) return true;
  // Trailing dots and spaces are dropped by Windows: "setup.exe. " runs as setup.exe.
  const trimmed = name.replace(/[. ]+$/, '').toLowerCase();
  const dot = trimmed.lastIndexOf('.');
  return dot >= 0 && RISKY_ENDINGS.has(trimmed.slice(dot + 1));
}

/** Image types every shell's page can show from the file itself. */
const SHOWABLE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);

export function isShowableImage(type: string): boolean {
  return SHOWABLE_IMAGES.has(type.toLowerCase());
}
