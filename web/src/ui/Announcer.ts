/**
 * Screen-reader announcements through one polite live region. Repeating the same text
 * still gets read: the region is cleared first, then filled on the next frame.
 */
export class Announcer {
  private queue: string[] = [];
  private timer: number | undefined;

  constructor(private readonly region: HTMLElement) {}

  say(text: string): void {
    this.queue.push(text);
    if (this.timer === undefined) this.flush();
  }

  private flush(): void {
    const next = this.queue.shift();
    if (next === undefined) {
      this.timer = undefined;
      return;
    }
    const line = document.createElement('p');
    line.textContent = next;
    this.region.appendChild(line);
    // Keep the region short: screen readers only need the newest lines.
    while (this.region.childElementCount > 5) this.region.firstElementChild?.remove();
    this.timer = window.setTimeout(() => this.flush(), 250);
  }
}
