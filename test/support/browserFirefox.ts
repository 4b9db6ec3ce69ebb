/**
 * Debian's Firefox ESR for the end-to-end tests, driven by puppeteer-core over WebDriver BiDi:
 * headless, fake camera and microphone, an isolated profile and home, every background service
 * off (relais is used on air-gapped networks and this machine has no internet: nothing but the
 * relais under test may be contacted).
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { prepareTestPage, type TestBrowser } from './browser.js';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** Background services that would reach out to Mozilla or elsewhere, turned off. */
const OFFLINE_PREFS: Record<string, unknown> = {
  'app.update.auto': false,
  'app.update.enabled': false,
  'app.update.disabledForTesting': true,
  'app.normandy.enabled': false,
  'app.normandy.api_url': '',
  'app.shield.optoutstudies.enabled': false,
  'browser.aboutHomeSnippets.updateUrl': '',
  'browser.discovery.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.telemetry': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.newtabpage.activity-stream.feeds.snippets': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.ping-centre.telemetry': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.provider.google.updateURL': '',
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.search.geoip.url': '',
  'browser.search.update': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'captivedetect.canonicalURL': '',
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'extensions.blocklist.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.update.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'geo.enabled': false,
  'geo.provider.network.url': '',
  'media.gmp-manager.url': '',
  'media.gmp-gmpopenh264.autoupdate': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.http.speculative-parallel-limit': 0,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  'security.OCSP.enabled': 0,
  'security.remote_settings.crlite_filters.enabled': false,
  'services.settings.server': 'data:,#remote-settings-off',
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.unified': false,
};

/** Fake devices without a prompt, sound allowed to play, real host addresses in ICE. */
const MEDIA_PREFS: Record<string, unknown> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.autoplay.block-webaudio': false,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'intl.accept_languages': 'fr-FR, fr',
};

/**
 * Firefox ESR, headless. It accepts relais's test certificate (`acceptInsecureCerts`): the
 * tests serve relais over HTTPS on a veth address (see ./vethNamespace.ts).
 */
export async function launchFirefox(): Promise<TestBrowser> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'relais-firefox-'));
  for (const dir of ['profile', 'config', 'cache', 'data', 'runtime', 'tmp']) mkdirSync(path.join(home, dir));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    acceptInsecureCerts: true,
    protocolTimeout: 120_000,
    defaultViewport: { width: 1280, height: 800 },
    userDataDir: path.join(home, 'profile'),
    extraPrefsFirefox: { ...OFFLINE_PREFS, ...MEDIA_PREFS },
    env: {
      ...process.env,
      HOME: home,
      TMPDIR: path.join(home, 'tmp'),
      XDG_CONFIG_HOME: path.join(home, 'config'),
      XDG_CACHE_HOME: path.join(home, 'cache'),
      XDG_DATA_HOME: path.join(home, 'data'),
      XDG_RUNTIME_DIR: path.join(home, 'runtime'),
      MOZ_CRASHREPORTER_DISABLE: '1',
      MOZ_DISABLE_AUTO_SAFE_MODE: '1',
    },
  });
  return {
    browser,
    page: async () => {
      return prepareTestPage(await browser.newPage(), 'firefox page');
    },
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
