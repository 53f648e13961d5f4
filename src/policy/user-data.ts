/** Fill the placeholders a worker's user data may use: {name}, {pool}, {region}, {az}. */
export function renderUserData(template: string, values: { name: string; pool: string; region: string; az: string }): string {
  return template.replace(/\{(name|pool|region|az)\}/g, (_, key: keyof typeof values) => values[key]);
}
