import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const actionsOnly = { group: ['@actions/*'], message: 'Only src/action/ may import @actions/*.' };
const partsStayDown = {
  // ../engine and ../engine/<anything> but ../engine/types; ../action/*, ../cli/*
  regex: '(^|/)(engine(/(?!types$).*)?|action(/.*)?|cli(/.*)?)$',
  message:
    'A part (config, remote, render, ...) must not import the engine or a front end: take a small interface of its own.',
};
/** The parts below the engine. */
const PARTS = ['src/config/**', 'src/remote/**', 'src/render/**', 'src/words/**', 'src/credentials/**'];

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
    files: ['src/engine/**', 'src/cli/**', 'src/ssh/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [actionsOnly] }] },
  },
  {
    // Arrows point down: a part may use the engine's result types (render draws RunResult), never
    // the engine's workings or a front end.
    files: PARTS,
    rules: { 'no-restricted-imports': ['error', { patterns: [actionsOnly, partsStayDown] }] },
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
              group: [
                '**/engine',
                '**/engine/*',
                '**/action',
                '**/action/*',
                '**/cli',
                '**/cli/*',
                '**/config',
                '**/config/*',
              ],
              message:
                'src/ssh must not import the engine, the config or the front ends: take what it needs as options (its own target types).',
            },
          ],
        },
      ],
    },
  },
);
