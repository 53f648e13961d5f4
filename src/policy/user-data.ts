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
