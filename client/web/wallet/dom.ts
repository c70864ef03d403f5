/** Small typed DOM helpers: the page is plain DOM, no framework. */

/** The element with this id, checked to be of the expected class; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, type?: new () => T): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  if (type && !(node instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return node as T;
}

/** Creates an element with a class and text (text is always set as text, never as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts: { className?: string; text?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (opts.className !== undefined) node.className = opts.className;
  if (opts.text !== undefined) node.textContent = opts.text;
  node.append(...children);
  return node;
}

/** Shows `text` in an error line, or hides it when text is empty. */
export function showMessage(node: HTMLElement, text: string): void {
  node.textContent = text;
  node.hidden = text === "";
}

const SCREENS = ["welcome", "home", "pay", "confirm", "escrow", "escrow-confirm", "status"] as const;
export type Screen = (typeof SCREENS)[number];

/** Shows one screen, hides the others, and moves focus to its heading for screen readers. */
export function showScreen(screen: Screen): void {
  byId("boot-message").hidden = true;
  for (const s of SCREENS) byId(`screen-${s}`).hidden = s !== screen;
  const heading = byId(`screen-${screen}`).querySelector<HTMLElement>("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

/** A shortened address for lists: 0x1234…abcd. */
export function shortAddress(a: string): string {
  return a.length > 12 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}
