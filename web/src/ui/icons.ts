/**
 * Line icons drawn as inline SVG: no icon font to download, no emoji font needed on old
 * systems. Always decorative (aria-hidden): the text next to them says the same.
 */
const PATHS = {
  mic: 'M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z M5 11a7 7 0 0 0 14 0 M12 18v3 M8 21h8',
  micOff: 'M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z M5 11a7 7 0 0 0 14 0 M12 18v3 M8 21h8 M3 3l18 18',
  camera: 'M3 7h12v10H3z M15 10l6-3v10l-6-3',
  cameraOff: 'M3 7h12v10H3z M15 10l6-3v10l-6-3 M3 3l18 18',
  screen: 'M3 4h18v12H3z M8 20h8 M12 16v4',
  hand: 'M7 12V5.5a1.5 1.5 0 0 1 3 0V11 M10 11V4a1.5 1.5 0 0 1 3 0v7 M13 11V5a1.5 1.5 0 0 1 3 0v6 M16 11V8a1.5 1.5 0 0 1 3 0v6a7 7 0 0 1-7 7h-1a6 6 0 0 1-5-3l-2.6-4.4a1.5 1.5 0 0 1 2.5-1.6L7 15',
  people: 'M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M3 20a6 6 0 0 1 12 0 M16 5a3 3 0 0 1 0 6 M18 14a5 5 0 0 1 3 6',
  leave: 'M12 3v8 M6.3 6.3a8 8 0 1 0 11.4 0',
  lowBandwidth: 'M5 20v-3 M10 20v-6 M15 20v-9 M20 20V5',
  speaking: 'M4 9h4l5-4v14l-5-4H4z M16 9a4 4 0 0 1 0 6 M18.5 6.5a8 8 0 0 1 0 11',
} as const;

export type IconName = keyof typeof PATHS;

const SVG = 'http://www.w3.org/2000/svg';

export function icon(name: IconName, className = 'icon'): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', PATHS[name]);
  svg.appendChild(path);
  return svg;
}
