#!/usr/bin/env node
// The `provisioner` command: runs the built CLI (npm run build first).
import '../dist/main.js';
