// Message lookup: English and Korean message files, the language picked from the browser and switchable.
// The choice (not any secret) is remembered in localStorage.
import { useSyncExternalStore } from 'react';
import { en, type MessageKey } from './en';
import { ko } from './ko';

export type Lang = 'en' | 'ko';
const FILES: Record<Lang, Record<MessageKey, string>> = { en, ko };
const STORE_KEY = 'gureum.lang';

function initial(): Lang {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (saved === 'en' || saved === 'ko') return saved;
  } catch { /* storage disabled */ }
  return (navigator.languages ?? [navigator.language]).some((l) => l.toLowerCase().startsWith('ko')) ? 'ko' : 'en';
}

let lang: Lang = initial();
const listeners = new Set<() => void>();
document.documentElement.lang = lang;

export function setLang(next: Lang): void {
  lang = next;
  document.documentElement.lang = next;
  try { localStorage.setItem(STORE_KEY, next); } catch { /* storage disabled */ }
  for (const l of listeners) l();
}

export function useLang(): Lang {
  return useSyncExternalStore((l) => { listeners.add(l); return () => listeners.delete(l); }, () => lang);
}

export type T = (key: MessageKey, vars?: Record<string, string | number>) => string;

/** Formats one message; `{name}` placeholders take `vars`. */
export function translate(l: Lang, key: MessageKey, vars?: Record<string, string | number>): string {
  const text = FILES[l][key] ?? en[key] ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : text;
}

export function useT(): T {
  const l = useLang();
  return (key, vars) => translate(l, key, vars);
}

export type { MessageKey };
