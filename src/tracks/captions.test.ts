import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCaptions, sanitizeCueText, toWebVtt } from './captions.ts';

const ok = (input: string) => {
  const result = parseCaptions(input);
  if ('error' in result) throw new Error(`line ${result.error.line}: ${result.error.message}`);
  return result.cues;
};

describe('parseCaptions: SRT and WebVTT to clean WebVTT', () => {
  it('converts SRT (CRLF, BOM, counters, comma milliseconds) to WebVTT', () => {
    const srt =
      '\uFEFF1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\nworld\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nBye\r\n';
    assert.equal(
      toWebVtt(ok(srt)),
      'WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello\nworld\n\n00:00:03.000 --> 00:00:04.000\nBye\n',
    );
  });

  it('reads WebVTT: header text, NOTE/STYLE/REGION blocks skipped, identifiers, hours optional, settings kept if valid', () => {
    const vtt = [
      'WEBVTT - some title',
      '',
      'NOTE a comment',
      'spanning lines',
      '',
      'STYLE',
      '::cue { color: red }',
      '',
      'intro',
      '01:02.500 --> 01:04.000 align:start position:10% bogus:1 line:-2',
      '<v Ana>Hi</v>',
      '',
    ].join('\n');
    assert.deepEqual(ok(vtt), [
      { start: 62.5, end: 64, settings: 'align:start position:10% line:-2', text: '<v Ana>Hi</v>' },
    ]);
  });

  it('sorts cues by start and keeps overlapping ones', () => {
    const vtt =
      'WEBVTT\n\n00:00:05.000 --> 00:00:07.000\nB\n\n00:00:01.000 --> 00:00:06.000\nA\n\n00:00:05.500 --> 00:00:06.500\nC\n';
    assert.deepEqual(
      ok(vtt).map((cue) => [cue.start, cue.text]),
      [
        [1, 'A'],
        [5, 'B'],
        [5.5, 'C'],
      ],
    );
  });

  const bad: Array<[string, string, number]> = [
    ['a bad timestamp', '1\n00:00:01,000 --> 00:00:0x,000\nHi\n', 2],
    ['minutes over 59', 'WEBVTT\n\n00:61:00.000 --> 00:62:00.000\nHi\n', 3],
    ['an end before the start', '1\n00:00:05,000 --> 00:00:04,000\nHi\n', 2],
    ['a block without timing', '1\n00:00:01,000 --> 00:00:02,000\nOk\n\n2\njust text\n', 6],
    ['a garbled header', 'WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nHi\n', 1],
    ['missing milliseconds', 'WEBVTT\n\n00:00:01 --> 00:00:02\nHi\n', 3],
  ];
  for (const [name, input, line] of bad) {
    it(`refuses ${name}, naming line ${line}`, () => {
      const result = parseCaptions(input);
      assert.ok('error' in result, 'refused');
      assert.equal(result.error.line, line, result.error.message);
    });
  }

  it('drops cues whose text is empty once sanitised', () => {
    assert.deepEqual(ok('1\n00:00:01,000 --> 00:00:02,000\n<font color="red"></font>\n'), []);
  });
});

describe('sanitizeCueText', () => {
  const table: Array<[string, string]> = [
    ['<i>italic</i> and <b>bold</b>', '<i>italic</i> and <b>bold</b>'],
    ['<c.yellow.big>class</c>', '<c.yellow.big>class</c>'],
    ['<v Roger Bingham>voice</v>', '<v Roger Bingham>voice</v>'],
    ['<00:00:01.500>karaoke', '<00:00:01.500>karaoke'],
    ['<script>alert(1)</script>', 'alert(1)'],
    ['<font color="#ff0000">red</font>', 'red'],
    ['<img src=x onerror=alert(1)>', ''],
    ['{\\an8}top of the screen', 'top of the screen'],
    ['Tom & Jerry &amp; friends &lt;3 &copy;', 'Tom &amp; Jerry &amp; friends &lt;3 &amp;copy;'],
    ['a < b and c > d', 'a &lt; b and c &gt; d'],
    ['arrow --> inside', 'arrow --&gt; inside'],
    ['  padded  ', 'padded'],
  ];
  for (const [input, expected] of table) {
    it(JSON.stringify(input), () => assert.equal(sanitizeCueText(input), expected));
  }
});
