// ESLint for LuCI's client-side modules (openwrt-feed/**/luci-static/**/*.js). LuCI loads each
// file as the body of a function: 'require x as y' strings import modules as parameters, and
// the file ends with a top-level `return`. Run from the repository's root:
//   eslint -c tests/openwrt/luci/eslint.config.mjs openwrt-feed
// The rules are spelled out (no plugin packages) so that npm ci installs eslint alone.

// What LuCI gives every module (luci.js), and the modules our files 'require' as parameters.
const luciGlobals = {
  L: 'readonly', E: 'readonly', _: 'readonly', N_: 'readonly',
  baseclass: 'readonly', form: 'readonly', pluginUtil: 'readonly',
};

export default [
  {
    files: ['openwrt-feed/**/luci-static/**/*.js'],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: 'script',
      parserOptions: { ecmaFeatures: { globalReturn: true } },
      globals: {
        ...luciGlobals,
        console: 'readonly', window: 'readonly', document: 'readonly', Promise: 'readonly',
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-undef': 'error',
      'no-unused-vars': ['error', { args: 'none' }],
      'no-redeclare': 'error',
      'no-dupe-keys': 'error',
      'no-duplicate-case': 'error',
      'no-unreachable': 'error',
      'no-func-assign': 'error',
      'no-const-assign': 'error',
      'no-self-assign': 'error',
      'no-self-compare': 'error',
      'no-sparse-arrays': 'error',
      'no-unsafe-negation': 'error',
      'no-useless-escape': 'error',
      'no-empty': 'error',
      'no-cond-assign': 'error',
      'no-constant-condition': 'error',
      'use-isnan': 'error',
      'valid-typeof': 'error',
      'no-var': 'off',
      strict: ['error', 'global'],
      semi: ['error', 'always'],
      'no-trailing-spaces': 'error',
      indent: ['error', 'tab', { SwitchCase: 0, VariableDeclarator: 'first' }],
    },
  },
];
