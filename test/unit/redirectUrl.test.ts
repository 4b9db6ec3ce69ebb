import assert from 'node:assert/strict';
import { redirectedUrl } from '../../web/src/access/redirect.js';

const here = (pathname: string, search = '') => ({ pathname, search }) as Location;

describe('the page moving to another node (pure)', () => {
  it('keeps the page, puts the token back in the fragment and counts the move', () => {
    const next = redirectedUrl({ url: 'https://node-b.relais.test:8443', node: 'b' }, 'abc.def.ghi', here('/'));
    assert.equal(next, 'https://node-b.relais.test:8443/?moved=1#token=abc.def.ghi');
  });

  it('stops after three moves in a row, so two full nodes cannot bounce a page forever', () => {
    const target = { url: 'https://node-b.relais.test', node: 'b' };
    assert.match(redirectedUrl(target, 't', here('/', '?moved=2')) ?? '', /moved=3/);
    assert.equal(redirectedUrl(target, 't', here('/', '?moved=3')), undefined);
  });

  it('never follows a target that is not an http(s) address', () => {
    assert.equal(redirectedUrl({ url: 'javascript:alert(1)', node: 'x' }, 't', here('/')), undefined);
    assert.equal(redirectedUrl({ url: 'not a url', node: 'x' }, 't', here('/')), undefined);
  });
});
