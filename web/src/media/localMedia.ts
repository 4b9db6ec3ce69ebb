/** Camera and microphone capture with the person's chosen devices. */
export interface CapturePreferences {
  cameraId: string | undefined;
  micId: string | undefined;
  /** Turns off echo cancellation, noise suppression and gain control (music, test tones). */
  originalSound: boolean;
}

export const preferences: CapturePreferences = { cameraId: undefined, micId: undefined, originalSound: false };

export function audioConstraints(prefs: CapturePreferences = preferences): MediaTrackConstraints {
  const processing = !prefs.originalSound;
  return {
    ...(prefs.micId ? { deviceId: { exact: prefs.micId } } : {}),
    echoCancellation: processing,
    noiseSuppression: processing,
    autoGainControl: processing,
  };
}

export function videoConstraints(prefs: CapturePreferences = preferences): MediaTrackConstraints {
  return {
    ...(prefs.cameraId ? { deviceId: { exact: prefs.cameraId } } : {}),
    width: { ideal: 1280 },
    height: { ideal: 720 },
    frameRate: { ideal: 24, max: 30 },
  };
}

/** The one track a capture asked for (a browser that answers without it has failed). */
function onlyTrack(tracks: MediaStreamTrack[]): MediaStreamTrack {
  const [track] = tracks;
  if (!track) throw new DOMException('the browser gave no track', 'NotFoundError');
  return track;
}

export async function captureMic(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints() });
  return onlyTrack(stream.getAudioTracks());
}

export async function captureCamera(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: videoConstraints() });
  return onlyTrack(stream.getVideoTracks());
}

export async function captureScreen(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { frameRate: { ideal: 10, max: 15 } },
    audio: false,
  });
  return onlyTrack(stream.getVideoTracks());
}

export async function listDevices(kind: 'audioinput' | 'videoinput'): Promise<MediaDeviceInfo[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((d) => d.kind === kind && d.deviceId);
}

export function errorText(error: unknown): string {
  if (error instanceof DOMException) return `${error.name}${error.message ? ` (${error.message})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}
