import { useEffect, useRef, useState } from 'react';
import { ApiError } from '@govhall/api-client';
import type { Hall, Queue, QueueService } from './queue';
import { announcementsBetween, recentCalls, speak, speechText } from './screen';
import type { Announcement } from './screen';

export const POLL_MS = 1500;

/**
 * The waiting-room screen's state: the queue polled every 1.5 s (the "within 2 s" of the hall), what to announce
 * from the difference between polls, spoken once the staff member allowed sound with one click.
 */
export function useHallScreen(service: QueueService, hallId: number) {
  const [queue, setQueue] = useState<Queue | null>(null);
  const [hall, setHall] = useState<Hall | null>(null);
  const [recent, setRecent] = useState<Announcement[]>([]);
  const [offline, setOffline] = useState(false);
  const [missing, setMissing] = useState(false);
  const [soundOn, setSoundOn] = useState(false);
  const soundRef = useRef(false);
  const lastRef = useRef<Queue | null>(null);
  const canSpeak = typeof window !== 'undefined' && 'speechSynthesis' in window;

  useEffect(() => {
    service
      .halls()
      .then((halls) => setHall(halls.find((item) => item.id === hallId) ?? null))
      .catch(() => setHall(null));
  }, [service, hallId]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const next = await service.queue(hallId);
        if (stopped) return;
        const found = announcementsBetween(lastRef.current, next);
        lastRef.current = next;
        setQueue(next);
        setOffline(false);
        if (found.length) {
          setRecent((history) => recentCalls(history, found));
          if (soundRef.current) found.forEach((item) => speak(speechText(item)));
        }
      } catch (error) {
        if (stopped) return;
        // A wrong address on the TV is not a network failure: it will not fix itself, so say which it is.
        if (error instanceof ApiError && error.status === 404) setMissing(true);
        else setOffline(true);
      } finally {
        if (!stopped) timer = setTimeout(poll, POLL_MS);
      }
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [service, hallId]);

  /** The click a TV browser needs before it plays sound: says a short test sentence. */
  const enableSound = () => {
    soundRef.current = true;
    setSoundOn(true);
    speak('语音播报已开启');
  };

  return { queue, hall, recent, offline, missing, soundOn, canSpeak, enableSound };
}
