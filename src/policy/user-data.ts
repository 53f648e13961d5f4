/** Fill the placeholders a worker's user data may use: {name}, {pool}, {region}, {az}. */
export function renderUserData(template: string, values: { name: string; pool: string; region: string; az: string }): string {
  return template.replace(/\{(name|pool|region|az)\}/g, (_, key: keyof typeof values) => values[key]);
}

/**
 * Whether the user data names the instance: then each instance needs user data of its own, and its
 * launches cannot share a call (one call carries one user data for all its instances).
 */
export function usesName(template: string): boolean {
  return template.includes('{name}');
}

export const PLACEHOLDERS = ['name', 'pool', 'region', 'az'] as const;

/**
 * `{word}` placeholders the template uses that do not exist ({zone} for {az}): they would reach the
 * worker unfilled. Shell `${VAR}`, templating `{{ var }}` and brace lists `{a,b}` are not placeholders.
 */
export function unknownPlaceholders(template: string): string[] {
  const found = [...template.matchAll(/(?<![${])\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})/g)].map((m) => m[1] as string);
  return [...new Set(found.filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p)))];
}
