import { describe, expect, it } from 'vitest';
import { CHROMIUM_RISKY_EXTENSIONS } from './download-file-types.js';
import { isRiskyFile, isShowableImage } from './risky-files.js';

describe('risky files', () => {
  it('a program is risky by its content whatever its name', () => {
    expect(isRiskyFile('holiday.jpg', 'application/x-msdownload')).toBe(true);
    expect(isRiskyFile('notes.txt', 'application/x-elf')).toBe(true);
    expect(isRiskyFile('tool', 'application/x-mach-binary')).toBe(true);
    expect(isRiskyFile('game.zip', 'application/java-archive')).toBe(true);
  });

  it('a script is risky by its name, since its content is plain text', () => {
    for (const name of ['install.sh', 'RUN.BAT', 'setup.exe', 'setup.exe. ', 'report.pdf.js', 'page.html', 'logo.svg', 'tool.py', 'a.ps1', 'x.desktop']) {
      expect(isRiskyFile(name, 'application/octet-stream'), name).toBe(true);
    }
  });

  it('asks for every type issue 33 found opening without a word: disk images, Windows scripts and shortcuts, Office add-ins, macOS types', () => {
    const endings = [
      'iso', 'img', 'vhd', 'vhdx', 'msc', 'jnlp', 'scf', 'settingcontent-ms',
      'vbs', 'vbe', 'vb', 'vbscript', 'js', 'jse', 'ws', 'wsc', 'wsf', 'wsh', 'ps1', 'ps1xml', 'psc1', 'bat', 'cmd', 'sct', 'hta',
      'xlam', 'xla', 'xll', 'ppam', 'docm', 'dotm', 'xlsm', 'pptm',
      'applescript', 'scpt', 'scptd', 'osax', 'command', 'workflow', 'action', 'mobileconfig', 'webloc', 'fileloc', 'dmg', 'pkg', 'mpkg',
    ];
    for (const ending of endings) expect(isRiskyFile(`minutes.${ending}`, 'application/octet-stream'), ending).toBe(true);
    expect(isRiskyFile('MINUTES.ISO', 'application/octet-stream')).toBe(true);
  });

  it('takes Chromium’s list of dangerous downloads whole (src-shared/download-file-types.ts)', () => {
    for (const ending of CHROMIUM_RISKY_EXTENSIONS) expect(isRiskyFile(`file.${ending}`, 'application/octet-stream'), ending).toBe(true);
    expect(CHROMIUM_RISKY_EXTENSIONS).toContain('appref-ms');
  });

  it('documents, pictures and archives open without asking', () => {
    for (const [name, type] of [
      ['photo.jpg', 'image/jpeg'],
      ['report.pdf', 'application/pdf'],
      ['notes.txt', 'application/octet-stream'],
      ['archive.zip', 'application/zip'],
      ['README', 'application/octet-stream'],
      ['exe', 'application/octet-stream'],
      ['sheet.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ] as const) {
      expect(isRiskyFile(name, type), name).toBe(false);
    }
  });

  it('shows only image types a page draws itself', () => {
    expect(isShowableImage('image/png')).toBe(true);
    expect(isShowableImage('image/webp')).toBe(true);
    expect(isShowableImage('image/svg+xml')).toBe(false);
    expect(isShowableImage('application/pdf')).toBe(false);
  });
});
