import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // The engine and its parts never know whether they run in a workflow or a terminal.
    files: ['src/engine/**', 'src/config/**', 'src/ssh/**', 'src/remote/**', 'src/render/**', 'src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@actions/*'], message: 'Only src/action/ may import @actions/*.' }] },
      ],
    },
  },
  {
    // Arrows point down: the SSH part knows nothing of the engine or the front ends.
    files: ['src/ssh/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@actions/*'], message: 'Only src/action/ may import @actions/*.' },
            {
              group: ['**/engine', '**/engine/*', '**/action', '**/action/*', '**/cli', '**/cli/*'],
              message: 'src/ssh must not import the engine or the front ends: take what it needs as options.',
            },
          ],
        },
      ],
    },
  },
);
