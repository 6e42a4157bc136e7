/**
 * Text that came from a stream or a name someone chose (pipeline names, topics, field names, agent messages), made
 * inert before VS Code renders it. Notifications turn `[label](command:…)` into a clickable link, the status bar and
 * quick picks turn `$(name)` into an icon, and markdown also links `<command:…>` and `[label]: command:…`. A zero-width
 * space (U+200B) breaks each of those openers, so the text reads the same but nothing in it can become a link, a
 * command or an icon. Idempotent: inert(inert(s)) === inert(s).
 */

const ZWSP = '\u200B';

/** `](` and `]:` (inline and reference links), `$(` (theme icons), `<scheme:` (autolinks). */
const OPENERS = /\]([(:])|\$\(|<(?=[A-Za-z][A-Za-z0-9+.-]{1,31}:)/g;

/** The one escaping function for every surface: notifications, tree rows, tooltips, status bar, hovers. */
export function inert(text: string): string {
  return text.replace(OPENERS, (match: string, after: string | undefined) => {
    if (after !== undefined) return `]${ZWSP}${after}`;
    if (match === '$(') return `$${ZWSP}(`;
    return `<${ZWSP}`;
  });
}
