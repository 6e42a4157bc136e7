#!/usr/bin/env node
'use strict';
// The CLI lives in the bundle that `npm install` / `npm run build` produces.
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'agent.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('clean-agent: dist/agent.js is missing. Run `npm install` (or `npm run build`) in ' + path.join(__dirname, '..') + ' first.\n');
  process.exit(1);
}
require(bundle).main(process.argv.slice(2));
