/**
 * Whether the person chose low bandwidth (no camera sent, videos on request): remembered for
 * the visit, through a rejoin and a reload of the tab, not beyond (sessionStorage).
 */
const KEY = 'relais.lowBandwidth';

let memory = false;

export function lowBandwidthChosen(): boolean {
  try {
    return sessionStorage.getItem(KEY) === 'on';
  } catch {
    // Storage refused (a strict browser setting): the choice lives as long as the page.
    return memory;
  }
}

export function chooseLowBandwidth(on: boolean): void {
  memory = on;
  try {
    if (on) sessionStorage.setItem(KEY, 'on');
    else sessionStorage.removeItem(KEY);
  } catch {
    // Kept in memory only.
  }
}
