import { en, fr, type MessageKey } from './messages.js';

export type Lang = 'fr' | 'en';

const STORAGE_KEY = 'relais.lang';
const catalogs: Record<Lang, Record<MessageKey, string>> = { fr, en };

/** French unless the person chose English, or their browser asks for English first. */
function initialLang(): Lang {
  const query = new URLSearchParams(location.search).get('lang');
  if (query === 'fr' || query === 'en') return query;
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'fr' || stored === 'en') return stored;
  } catch {
    // Storage may be disabled; the browser language decides.
  }
  const preferred = (navigator.languages?.[0] ?? navigator.language ?? 'fr').toLowerCase();
  return preferred.startsWith('en') ? 'en' : 'fr';
}

let current: Lang = initialLang();
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered: fine.
  }
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return catalogs[current][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}
