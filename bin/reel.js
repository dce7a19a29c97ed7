#!/usr/bin/env node
// Installed entry point: Node ≥ 22.18 runs the TypeScript sources directly (type stripping).
import '../src/cli.ts';
