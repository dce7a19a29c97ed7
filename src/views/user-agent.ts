/**
 * A User-Agent reduced to what analytics break down by — browser family, OS family, device class — so
 * the raw string (a fingerprinting aid) is never stored. Pure; first match wins, order matters (Edge and
 * Opera also say "Chrome", Chrome also says "Safari", Android also says "Linux").
 */
export interface ClientClass {
  browser: 'Chrome' | 'Firefox' | 'Safari' | 'Edge' | 'Opera' | 'Samsung Internet' | 'Other';
  os: 'Android' | 'iOS' | 'Windows' | 'macOS' | 'ChromeOS' | 'Linux' | 'Other';
  device: 'phone' | 'tablet' | 'tv' | 'desktop' | 'bot' | 'other';
}

const BROWSERS: Array<[RegExp, ClientClass['browser']]> = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(Chrome|Chromium|CriOS|HeadlessChrome)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

const SYSTEMS: Array<[RegExp, ClientClass['os']]> = [
  [/\bAndroid\b/, 'Android'],
  [/\b(iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

const DEVICES: Array<[RegExp, ClientClass['device']]> = [
  [/bot|crawler|spider|crawling|headless/i, 'bot'],
  [/\b(SMART-TV|SmartTV|Tizen|Web0S|webOS|BRAVIA|AppleTV|CrKey|AFT[A-Z])/i, 'tv'],
  [/\biPad\b|\bTablet\b/, 'tablet'],
  [/\bAndroid\b(?!.*\bMobile\b)/, 'tablet'],
  [/\bMobile\b|\biPhone\b|\biPod\b/, 'phone'],
  [/\b(Windows|Macintosh|X11|CrOS|Linux)\b/, 'desktop'],
];

function firstMatch<T extends string>(rules: Array<[RegExp, T]>, text: string, fallback: T): T {
  for (const [pattern, value] of rules) if (pattern.test(text)) return value;
  return fallback;
}

export function classifyUserAgent(userAgent: string | undefined): ClientClass {
  const text = (userAgent ?? '').slice(0, 512);
  return {
    browser: firstMatch(BROWSERS, text, 'Other'),
    os: firstMatch(SYSTEMS, text, 'Other'),
    device: firstMatch(DEVICES, text, 'other'),
  };
}
