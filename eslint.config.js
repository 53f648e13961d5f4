// Lint: typescript-eslint's type-aware recommended rules, plus the rules that keep the pure core pure.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Unused bindings are compile errors already (noUnusedLocals/Parameters); a leading _ marks the deliberate ones.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // Output sanitisers match control characters on purpose.
      'no-control-regex': 'off',
      // Ports have async implementations that need no await (the simulator answers at once).
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests and benches read the CLI's JSON output and recorded documents as untyped data, on purpose.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    // commander hands each action its parsed options untyped; the command functions declare their shape.
    files: ['src/cli/program.ts'],
    rules: { '@typescript-eslint/no-unsafe-argument': 'off' },
  },
  {
    // The decision core reads no clock and does no I/O: plan() must stay a pure function of its inputs.
    files: ['src/domain/**/*.ts', 'src/policy/**/*.ts', 'src/plan/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/cloud/**',
            '**/service/**',
            '**/shared/**',
            '**/cli/**',
            '**/sim/**',
            '**/fake-cloud/**',
            'node:fs',
            'node:fs/*',
            'node:net',
            'node:http',
            'node:https',
            'node:child_process',
            'node:os',
            'node:timers',
            'node:timers/*',
            '@aws-sdk/*',
          ],
        },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'the planner takes the time from its snapshot' }],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'the planner takes the time from its snapshot' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
