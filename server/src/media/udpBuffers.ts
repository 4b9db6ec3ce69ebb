import { readFileSync } from 'node:fs';

/** RELAIS_UDP_BUFFER_BYTES's default: 4 MiB. */
export const DEFAULT_UDP_BUFFER_BYTES = 4 * 2 ** 20;

/** What a mediasoup UDP listen info carries to size its socket's buffers. */
export interface UdpBufferSizes {
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** The listen-info fields for RELAIS_UDP_BUFFER_BYTES; none (the kernel's default) for 0. */
export function udpBufferSizes(bytes: number): UdpBufferSizes {
  return bytes > 0 ? { recvBufferSize: bytes, sendBufferSize: bytes } : {};
}

/**
 * The kernel's caps on a socket's receive and send buffers (Linux: net.core.rmem_max and
 * wmem_max), which silently bound what SO_RCVBUF / SO_SNDBUF ask for; undefined where unreadable.
 */
export function kernelUdpBufferCaps(): { rmemMax?: number; wmemMax?: number } {
  const read = (name: string): number | undefined => {
    try {
      const value = Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
      return Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const rmemMax = read('rmem_max');
  const wmemMax = read('wmem_max');
  return { ...(rmemMax !== undefined ? { rmemMax } : {}), ...(wmemMax !== undefined ? { wmemMax } : {}) };
}
