/**
 * The browsers relais supports (README "Supported browsers"), as esbuild targets: the client is
 * built for them, and test/unit/webBundle.test.ts checks the bundle holds no syntax they lack.
 * Firefox 115 is the oldest ESR still found in ministries (extended on Windows 7/8.1); the last
 * two ESR (140, 153) are newer. Safari 15 covers iOS 15 phones.
 */
export const BROWSER_TARGETS = ['chrome100', 'edge100', 'firefox115', 'safari15'];
