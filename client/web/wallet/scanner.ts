import jsQRModule from "jsqr";
import { OrioleError } from "../../sdk/errors.ts";

// jsqr is a CommonJS bundle whose `exports.default` is the function; from an ES module its default import is that exports object.
const jsQR = jsQRModule.default;

/** The Shape Detection API's BarcodeDetector, where the browser has it (Chrome on Android, Safari). */
interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
interface BarcodeDetectorClass {
  new (opts: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

/** True when the device has a camera the page could ask for (labels need no permission). */
export async function hasCamera(): Promise<boolean> {
  // Absent outside a secure context, whatever lib.dom says.
  const media = navigator.mediaDevices as MediaDevices | undefined;
  if (media === undefined || typeof media.getUserMedia !== "function") return false;
  try {
    const devices = await media.enumerateDevices();
    return devices.some((d) => d.kind === "videoinput");
  } catch {
    return false;
  }
}

async function nativeDetector(): Promise<BarcodeDetectorLike | undefined> {
  const ctor = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (ctor === undefined) return undefined;
  try {
    const formats = await ctor.getSupportedFormats();
    return formats.includes("qr_code") ? new ctor({ formats: ["qr_code"] }) : undefined;
  } catch {
    return undefined;
  }
}

export interface Scan {
  /** Resolves with the first QR code's text, or undefined when stopped. */
  result: Promise<string | undefined>;
  stop(): void;
}

/**
 * Streams the back camera into `video` and looks for a QR code on each
 * frame: with BarcodeDetector when available, else with jsQR on the pixels
 * of a canvas. Stops the camera as soon as a code is found or `stop()` is called.
 */
export async function startScan(video: HTMLVideoElement): Promise<Scan> {
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
  } catch (e) {
    throw new OrioleError("camera_unavailable", e instanceof Error ? e.message : String(e), {}, { cause: e });
  }
  video.srcObject = stream;
  await video.play();
  const detector = await nativeDetector();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });

  let stopped = false;
  let finish: (v: string | undefined) => void = () => undefined;
  const result = new Promise<string | undefined>((resolve) => (finish = resolve));
  const stop = (value?: string): void => {
    if (stopped) return;
    stopped = true;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
    finish(value);
  };

  const tick = async (): Promise<void> => {
    if (stopped) return;
    if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0) {
      let text: string | undefined;
      if (detector) {
        const codes = await detector.detect(video).catch(() => []);
        text = codes[0]?.rawValue;
      } else if (ctx) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        text = jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" })?.data;
      }
      if (text !== undefined && text !== "") {
        stop(text);
        return;
      }
    }
    // About 6 scans a second is plenty and keeps a phone cool.
    setTimeout(() => void tick(), 150);
  };
  void tick();
  return {
    result,
    stop: () => {
      stop();
    },
  };
}
