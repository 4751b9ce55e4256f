// Loaded before every test file: the same platform setup as every entry point.
import '../src/platform.js';
