#!/usr/bin/env node
// Thin launcher: everything lives in the built dist/ (run `npm run build` after a checkout).
import { main } from '../dist/cli/main.js';
main(process.argv);
