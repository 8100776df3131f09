/**
 * A minimal HTML builder that escapes by default: every value interpolated into {@link html} is
 * escaped unless it is itself {@link SafeHtml} (built by `html` or {@link raw}). Text from
 * results.json (dataset names, class labels, notes, config values) can therefore never inject
 * markup into the report.
 */

/** Markup known to be safe (built here, not taken from input). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escape text for element content and quoted attribute values.
 *
 * @example
 * escapeHtml('<script>"x"</script>'); // "&lt;script&gt;&quot;x&quot;&lt;/script&gt;"
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/**
 * Tagged template: literal parts are markup, interpolations are escaped (arrays are joined,
 * null/undefined/false render as nothing).
 *
 * @example
 * html`<p>${userText}</p>`.value;
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1];
  });
  return new SafeHtml(out);
}

/**
 * Mark trusted, already-built markup (an SVG data URI we rendered, the stylesheet) as safe.
 *
 * @example
 * html`<style>${raw(css)}</style>`;
 */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}
