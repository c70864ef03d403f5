import { OrioleError } from "../../sdk/errors.ts";
import { getBytes } from "ethers";
import { base64UrlDecode, base64UrlEncode, encodePasskeySignature, publicKeyFromSpki } from "../../sdk/account/webauthn.ts";

/** ES256: ECDSA on P-256 with SHA-256, the only algorithm the account verifies. */
const ES256 = -7;

export interface NewPasskey {
  credentialId: string;
  qx: string;
  qy: string;
}

export interface Assertion {
  authenticatorData: Uint8Array;
  clientDataJSON: Uint8Array;
  /** DER-encoded ECDSA signature, as the authenticator returns it. */
  signature: Uint8Array;
}

export function passkeysSupported(): boolean {
  return typeof window.PublicKeyCredential === "function" && typeof navigator.credentials.create === "function";
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** Turns the DOMException of a WebAuthn call into an OrioleError the UI can explain. */
function passkeyError(e: unknown, cancelledCode: string): OrioleError {
  const name = e instanceof DOMException ? e.name : "";
  const message = e instanceof Error ? e.message : String(e);
  switch (name) {
    // The user cancelled, the biometric check failed, or the timeout passed: the spec does not tell them apart.
    case "NotAllowedError":
    case "AbortError":
      return new OrioleError(cancelledCode, message, { reason: name }, { cause: e });
    case "SecurityError":
      return new OrioleError("passkey_insecure", message, {}, { cause: e });
    case "NotSupportedError":
      return new OrioleError("passkey_unsupported", message, {}, { cause: e });
    default:
      return new OrioleError("passkey_error", message, { reason: name }, { cause: e });
  }
}

/**
 * Creates a discoverable P-256 passkey for this site with user verification
 * required, and returns its public key. The private key never leaves the
 * authenticator; only the credential id and the public key come back.
 */
export async function createPasskey(label: string): Promise<NewPasskey> {
  let credential: Credential | null;
  try {
    credential = await navigator.credentials.create({
      publicKey: {
        rp: { id: location.hostname, name: "Oriole" },
        user: { id: randomBytes(16), name: label, displayName: label },
        challenge: randomBytes(32),
        pubKeyCredParams: [{ type: "public-key", alg: ES256 }],
        authenticatorSelection: { residentKey: "preferred", requireResidentKey: false, userVerification: "required" },
        attestation: "none",
        timeout: 120_000,
      },
    });
  } catch (e) {
    throw passkeyError(e, "passkey_create_cancelled");
  }
  if (!(credential instanceof PublicKeyCredential) || !(credential.response instanceof AuthenticatorAttestationResponse)) {
    throw new OrioleError("passkey_error", "the authenticator returned no public-key credential", { message: "no credential" });
  }
  const response = credential.response;
  if (response.getPublicKeyAlgorithm() !== ES256) throw new OrioleError("passkey_unsupported", "the passkey does not use ES256 (P-256)");
  const spki = response.getPublicKey();
  if (spki === null) throw new OrioleError("passkey_unsupported", "the browser did not return the passkey's public key");
  const { qx, qy } = publicKeyFromSpki(new Uint8Array(spki));
  return { credentialId: base64UrlEncode(new Uint8Array(credential.rawId)), qx, qy };
}

/**
 * Asks the authenticator to sign `challenge` (32 bytes) with the wallet's
 * passkey. `userVerification` is "required" for payments; the parameter
 * exists so a test can show that an assertion without UV is refused downstream.
 */
export async function getAssertion(credentialId: string, challenge: Uint8Array<ArrayBuffer>, userVerification: UserVerificationRequirement = "required"): Promise<Assertion> {
  let credential: Credential | null;
  try {
    credential = await navigator.credentials.get({
      publicKey: {
        rpId: location.hostname,
        challenge,
        allowCredentials: [{ type: "public-key", id: base64UrlDecode(credentialId) as Uint8Array<ArrayBuffer> }],
        userVerification,
        timeout: 120_000,
      },
    });
  } catch (e) {
    throw passkeyError(e, "passkey_cancelled");
  }
  if (!(credential instanceof PublicKeyCredential) || !(credential.response instanceof AuthenticatorAssertionResponse)) {
    throw new OrioleError("passkey_unavailable", "the authenticator returned no assertion");
  }
  const r = credential.response;
  return {
    authenticatorData: new Uint8Array(r.authenticatorData),
    clientDataJSON: new Uint8Array(r.clientDataJSON),
    signature: new Uint8Array(r.signature),
  };
}

/**
 * The SDK's `sign` for this wallet: the passkey asserts over the 32-byte
 * challenge with user verification required, and the assertion becomes the
 * account's passkey signature (payment intents and ERC-1271 escrow actions alike).
 */
export function walletSigner(w: { credentialId: string; qx: string; qy: string }): (challenge: string) => Promise<string> {
  return async (challenge) => {
    const assertion = await getAssertion(w.credentialId, getBytes(challenge) as Uint8Array<ArrayBuffer>);
    return encodePasskeySignature({ qx: w.qx, qy: w.qy, challenge, ...assertion });
  };
}
