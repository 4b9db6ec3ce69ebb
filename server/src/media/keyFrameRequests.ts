/**
 * RELAIS_KEYFRAME_REQUEST_DELAY_MS's default: at most one keyframe request per second and per
 * stream reaches a video sender, however many receivers ask (joins, layers coming back).
 */
export const DEFAULT_KEYFRAME_REQUEST_DELAY_MS = 1000;
