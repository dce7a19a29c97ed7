import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { streamBody } from './blob-body.ts';

/** A destination that keeps what it is given. */
function collector(): Writable & { bytes(): Buffer } {
  const chunks: Buffer[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return Object.assign(destination, { bytes: () => Buffer.concat(chunks) });
}

describe('streamBody', () => {
  it('pipes the stream and ends the destination', async () => {
    const destination = collector();
    await streamBody(Readable.from([Buffer.from('abc'), Buffer.from('def')])).writeTo(destination);
    assert.equal(destination.bytes().toString(), 'abcdef');
    assert.equal(destination.writableEnded, true);
  });

  it('a read failing mid-way destroys the destination and rejects with the error', async () => {
    const source = new PassThrough();
    const destination = collector().on('error', () => {});
    const sent = streamBody(source).writeTo(destination);
    source.write('abc');
    setImmediate(() => source.destroy(new Error('connection reset by the store')));
    await assert.rejects(sent, /connection reset by the store/);
    assert.equal(destination.destroyed, true);
    assert.equal(destination.writableEnded, false);
  });

  it('resolves when the destination closes first, stops the source, and survives its late error', async () => {
    const source = new PassThrough();
    const destination = collector();
    const sent = streamBody(source).writeTo(destination);
    source.write('abc');
    setImmediate(() => destination.destroy());
    await sent;
    assert.equal(source.destroyed, true);
    source.emit('error', new Error('aborted')); // as an HTTP body does once its socket is gone
  });

  it('close() releases an unsent stream', async () => {
    const source = new PassThrough();
    const body = streamBody(source);
    await body.close();
    await body.close();
    assert.equal(source.destroyed, true);
  });
});
