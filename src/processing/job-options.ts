/**
 * A processing job's time limit scales with the video's duration (so no job stays stuck, and a long
 * video is not killed early): 10 minutes plus 4× realtime, at 2-core veryfast speeds ≈ 1× realtime.
 */
export function processingTimeoutSeconds(durationSeconds: number): number {
  return Math.ceil(600 + 4 * Math.max(0, durationSeconds));
}

export function processingJobOptions(durationSeconds: number) {
  return { expireInSeconds: processingTimeoutSeconds(durationSeconds) };
}
