// Record a voice sample in the browser (MediaRecorder, Opus in WebM where the browser has it).
// The server checks the first bytes, so the type sent is the type recorded.

export const MAX_RECORD_S = 60;

export function recordingSupported(): boolean {
  return typeof MediaRecorder !== "undefined" && !!navigator.mediaDevices?.getUserMedia;
}

function pickType(): string {
  for (const t of ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"]) {
    if (MediaRecorder.isTypeSupported(t)) return t;
  }
  return "";
}

export class VoiceRecorder {
  private recorder: MediaRecorder | null = null;
  private stream: MediaStream | null = null;
  private chunks: Blob[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  startedMs = 0;

  async start(onAutoStop: () => void): Promise<void> {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    const type = pickType();
    this.recorder = new MediaRecorder(this.stream, type ? { mimeType: type, audioBitsPerSecond: 48_000 } : undefined);
    this.chunks = [];
    this.recorder.ondataavailable = (e) => {
      if (e.data.size) this.chunks.push(e.data);
    };
    this.recorder.start(250);
    this.startedMs = Date.now();
    this.timer = setTimeout(onAutoStop, MAX_RECORD_S * 1000);
  }

  /** Stop and give the recording (its type without codec parameters, as the server lists it). */
  async stop(): Promise<Blob | null> {
    clearTimeout(this.timer);
    const rec = this.recorder;
    if (!rec) return null;
    const done = new Promise<void>((resolve) => (rec.onstop = () => resolve()));
    if (rec.state !== "inactive") rec.stop();
    await done;
    this.release();
    const type = (rec.mimeType || "audio/webm").split(";")[0];
    return new Blob(this.chunks, { type });
  }

  release(): void {
    clearTimeout(this.timer);
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    this.recorder = null;
  }
}
