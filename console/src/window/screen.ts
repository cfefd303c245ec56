import type { Queue } from './queue';

export type Serving = Queue['serving'][number];

export interface Announcement {
  number: string;
  window: number | null;
  /** Why it is announced: a new call, or the same number called again. */
  reason: 'called' | 'recalled';
}

function key(entry: Serving): string {
  return entry.number;
}

/**
 * What the screen must announce between two polls of the queue: numbers newly serving, and numbers called again
 * (their recall count grew, or they moved to another window). The first poll announces nothing: a screen switched
 * on mid-morning must not read out every window.
 */
export function announcementsBetween(before: Queue | null, after: Queue): Announcement[] {
  if (!before) return [];
  const earlier = new Map(before.serving.map((entry) => [key(entry), entry]));
  const found: Announcement[] = [];
  for (const entry of after.serving) {
    const was = earlier.get(key(entry));
    if (!was) found.push({ number: entry.number, window: entry.window, reason: 'called' });
    else if ((entry.recalls ?? 0) > (was.recalls ?? 0) || entry.window !== was.window) {
      found.push({ number: entry.number, window: entry.window, reason: 'recalled' });
    }
  }
  return found;
}

/** The sentence spoken in the hall: "请 A012 号到 3 号窗口". */
export function speechText(announcement: Pick<Announcement, 'number' | 'window'>): string {
  return announcement.window ? `请 ${announcement.number} 号到 ${announcement.window} 号窗口` : `请 ${announcement.number} 号到窗口办理`;
}

/** What the screen needs of the browser's speech synthesis (absent on some TV browsers). */
export interface Speaker {
  speak(utterance: SpeechSynthesisUtterance): void;
}

/** Speaks the text twice in Chinese, slowly; false when the browser has no speech synthesis. */
export function speak(
  text: string,
  synth: Speaker | undefined = typeof window !== 'undefined' ? window.speechSynthesis : undefined,
  Utterance: (new (text: string) => SpeechSynthesisUtterance) | undefined = typeof SpeechSynthesisUtterance !== 'undefined'
    ? SpeechSynthesisUtterance
    : undefined,
): boolean {
  if (!synth || !Utterance) return false;
  // Twice, as hall callers do: the first one catches the ear, the second one is heard.
  for (let time = 0; time < 2; time += 1) {
    const utterance = new Utterance(text);
    utterance.lang = 'zh-CN';
    utterance.rate = 0.9;
    synth.speak(utterance);
  }
  return true;
}

/** The last few numbers called, newest first, for the screen's "刚刚叫号" column. */
export function recentCalls(history: Announcement[], latest: Announcement[], keep = 6): Announcement[] {
  return [...latest.slice().reverse(), ...history].slice(0, keep);
}
