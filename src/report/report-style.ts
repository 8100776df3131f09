/** The report's stylesheet (inlined: the report loads nothing from the network). */
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --rule: #d0d0d0; --band: #f5f5f5; --accent: #1f5f99; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink); background: white; }
header.top { background: #17324d; color: white; padding: 1.6rem 2rem 1.2rem; }
header.top h1 { margin: 0 0 0.3rem; font-size: 1.6rem; }
header.top p { margin: 0.2rem 0; color: #dfe8f1; }
nav.toc { padding: 0.5rem 2rem; background: var(--band); border-bottom: 1px solid var(--rule); font-size: 0.9rem; }
nav.toc a { margin-right: 1.1rem; color: var(--accent); text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: 0 2rem 3rem; }
h2 { margin-top: 2.4rem; padding-bottom: 0.3rem; border-bottom: 2px solid var(--ink); font-size: 1.35rem; }
h3 { margin-top: 1.8rem; font-size: 1.1rem; }
.banner { margin: 1rem 0; padding: 0.7rem 1rem; border-left: 5px solid #b35900; background: #fff4e8; }
figure { margin: 1.4rem 0; }
figure.figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 0.88rem; margin-top: 0.4rem; max-width: 60rem; }
figcaption .files { font-family: "DejaVu Sans Mono", monospace; font-size: 0.8rem; }
.scroll { overflow-x: auto; }
.scroll td, .scroll th { white-space: nowrap; }
.scroll.wrap-last td:last-child, .scroll.wrap-last th:last-child { white-space: normal; min-width: 12rem; }
table { border-collapse: collapse; font-size: 0.84rem; margin: 0.4rem 0; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
th, td { padding: 0.22rem 0.6rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafafa; }
figure.table figcaption p { margin: 0.15rem 0; }
.cards { display: flex; flex-wrap: wrap; gap: 0 2.5rem; }
dl.definitions dt { font-weight: bold; margin-top: 0.8rem; }
dl.definitions dd { margin-left: 1.2rem; }
sup.cite a { color: var(--accent); text-decoration: none; }
ol.references { font-size: 0.88rem; }
pre.command { white-space: pre-wrap; overflow-wrap: anywhere; }
pre { background: var(--band); padding: 0.7rem 1rem; overflow-x: auto; border: 1px solid var(--rule); font-size: 0.85rem; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; }
ul.headline li { margin: 0.35rem 0; }
footer { max-width: 1180px; margin: 0 auto; padding: 1rem 2rem 2rem; color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--rule); }
@media print { nav.toc { display: none; } header.top { background: none; color: black; } header.top p { color: black; } }
`;
