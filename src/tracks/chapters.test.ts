import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaptersFromDescription, chaptersVtt, checkChapters } from './chapters.ts';

describe('chaptersFromDescription (YouTube’s convention)', () => {
  const table: Array<[string, string, number, Array<[number, string]> | undefined]> = [
    [
      'three lines from 0:00',
      '0:00 Intro\n1:30 Setup\n4:05 Demo',
      600,
      [
        [0, 'Intro'],
        [90, 'Setup'],
        [245, 'Demo'],
      ],
    ],
    [
      'hours, separators, brackets and prose around',
      'My video.\n\n00:00 - Start\n(12:30) Middle part\n1:02:03 | Part two\nThanks!',
      4000,
      [
        [0, 'Start'],
        [750, 'Middle part'],
        [3723, 'Part two'],
      ],
    ],
    [
      'CRLF line ends',
      '0:00 A\r\n0:10 B\r\n0:20 C',
      30,
      [
        [0, 'A'],
        [10, 'B'],
        [20, 'C'],
      ],
    ],
    ['fewer than three', '0:00 Intro\n1:00 End', 600, undefined],
    ['not starting at 0:00', '0:05 Intro\n1:00 A\n2:00 B', 600, undefined],
    ['not ascending', '0:00 Intro\n2:00 A\n1:00 B', 600, undefined],
    ['past the end of the video', '0:00 Intro\n1:00 A\n11:00 B', 600, undefined],
    ['no chapters at all', 'Just a description, with a time 3:00 in the middle.', 600, undefined],
  ];
  for (const [name, description, duration, expected] of table) {
    it(name, () => {
      const chapters = chaptersFromDescription(description, duration);
      assert.deepEqual(
        chapters?.map((chapter) => [chapter.start, chapter.title]),
        expected,
      );
    });
  }
});

describe('checkChapters', () => {
  it('accepts ascending starts within the video', () => {
    assert.equal(
      checkChapters(
        [
          { start: 0, title: 'A' },
          { start: 5.5, title: 'B' },
        ],
        10,
      ),
      undefined,
    );
  });
  const bad: Array<[string, Array<{ start: number; title: string }>, number]> = [
    [
      'a start past the end',
      [
        { start: 0, title: 'A' },
        { start: 10, title: 'B' },
      ],
      1,
    ],
    ['a negative start', [{ start: -1, title: 'A' }], 0],
    [
      'equal starts',
      [
        { start: 0, title: 'A' },
        { start: 0, title: 'B' },
      ],
      1,
    ],
    ['an empty title', [{ start: 0, title: '  ' }], 0],
    ['a title over 100 characters', [{ start: 0, title: 'x'.repeat(101) }], 0],
  ];
  for (const [name, chapters, index] of bad) {
    it(`refuses ${name} (entry ${index})`, () => assert.equal(checkChapters(chapters, 10)?.index, index));
  }
});

describe('chaptersVtt', () => {
  it('each chapter runs to the next, the last to the end; titles escaped', () => {
    assert.equal(
      chaptersVtt(
        [
          { start: 0, title: 'Intro & <setup>' },
          { start: 90, title: 'Demo' },
        ],
        125.5,
      ),
      'WEBVTT\n\n1\n00:00:00.000 --> 00:01:30.000\nIntro &amp; &lt;setup&gt;\n\n2\n00:01:30.000 --> 00:02:05.500\nDemo\n',
    );
  });
});
