/**
 * Split one CSV line, honouring double quotes ("" inside quotes is a quote).
 *
 * @example
 * splitCsvLine('a,"b,c",""""'); // ["a", "b,c", '"']
 */
export function splitCsvLine(line: string): string[] {
  // Without quotes every comma ends a field: the native split (a study's effects tables are
  // hundreds of thousands of such lines).
  if (!line.includes('"')) return line.split(",");
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  fields.push(field);
  return fields;
}
