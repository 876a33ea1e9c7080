/**
 * Which received files could run code when opened: the app then asks before opening one.
 * Decided from both the type the host detected in the content and the name, because each
 * misses cases: a script is text the detector cannot tell from any other, and a renamed
 * executable still has an executable's content. Either one alone makes a file risky.
 */
import { CHROMIUM_RISKY_EXTENSIONS } from './download-file-types.js';

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

/**
 * Endings the desktop runs, mounts or hands to an interpreter when a file is opened: Chromium's list of
 * dangerous downloads (generated, src-shared/download-file-types.ts), and what Chromium leaves to its own
 * scanning inside archives and documents or to a browser's sandbox, which a file opened from this app has not.
 */
const RISKY_ENDINGS = new Set([
  ...CHROMIUM_RISKY_EXTENSIONS,
  // Disk images Windows mounts on opening; what is inside then carries no mark of where it came from.
  'vhd', 'vhdx',
  // Office files with macros, and add-ins: Office blocks macros only in files marked as from the internet,
  // and a file this app saves carries no such mark.
  'docm', 'dotm', 'xlsm', 'xltm', 'xlsb', 'xlam', 'xla', 'xlm', 'pptm', 'potm', 'ppsm', 'ppam', 'sldm',
  // Windows app packages and Linux app bundles, which install or run an app.
  'msix', 'msixbundle', 'appx', 'appxbundle', 'appinstaller', 'appimage', 'snap', 'flatpak', 'flatpakref',
  // Shells Chromium does not name.
  'zsh', 'fish',
  // Pages that run scripts in the browser that opens them, from the file system.
  'html', 'htm', 'xhtml', 'xht', 'shtml', 'svg',
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
