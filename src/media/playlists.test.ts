import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  avc1CodecString,
  type MasterVariant,
  measureBandwidth,
  parseMediaPlaylist,
  toVodPlaylist,
  writeMasterPlaylist,
} from './playlists.ts';

describe('avc1CodecString', () => {
  const table: Array<[profile: string, level: number, codec: string]> = [
    ['High', 3.1, 'avc1.64001f'],
    ['High', 31, 'avc1.64001f'],
    ['High', 2.1, 'avc1.640015'],
    ['High', 3, 'avc1.64001e'],
    ['High', 4, 'avc1.640028'],
    ['High', 4.2, 'avc1.64002a'],
    ['High', 5.1, 'avc1.640033'],
    ['High', 5.2, 'avc1.640034'],
    ['Main', 3, 'avc1.4d401e'],
    ['Main', 4, 'avc1.4d4028'],
    ['Baseline', 3, 'avc1.42c01e'],
    ['Constrained Baseline', 1.3, 'avc1.42c00d'],
    ['High 10', 5.1, 'avc1.6e0033'],
  ];
  for (const [profile, level, codec] of table) {
    it(`${profile}@${level} → ${codec}`, () => assert.equal(avc1CodecString(profile, level), codec));
  }
  it('rejects an unknown profile or level', () => {
    assert.throws(() => avc1CodecString('Extended', 3), RangeError);
    assert.throws(() => avc1CodecString('High', 0), RangeError);
  });
});

describe('measureBandwidth', () => {
  it('equal 6-s segments: peak = the largest segment rate, average = all bits / all seconds', () => {
    const segments = [
      { bytes: 750_000, durationSeconds: 6 },
      { bytes: 1_500_000, durationSeconds: 6 },
      { bytes: 375_000, durationSeconds: 6 },
    ];
    // peak 1 500 000 × 8 / 6 = 2 000 000; average 2 625 000 × 8 / 18 = 1 166 666.67 → 1 166 667
    assert.deepEqual(measureBandwidth(segments), { peakBps: 2_000_000, averageBps: 1_166_667 });
  });

  it('a short last segment is measured together with the one before it (RFC 8216 peak segment bit rate)', () => {
    const segments = [
      { bytes: 3_000_000, durationSeconds: 6 },
      { bytes: 100_000, durationSeconds: 0.1 }, // alone: 8 000 000 bit/s
    ];
    // runs of 3–9 s: [0] = 4 000 000; [0,1] = 3 100 000 × 8 / 6.1 = 4 065 573.77 → 4 065 574
    assert.deepEqual(measureBandwidth(segments), { peakBps: 4_065_574, averageBps: 4_065_574 });
  });

  it('a video shorter than half the target duration: peak = average', () => {
    assert.deepEqual(measureBandwidth([{ bytes: 100_000, durationSeconds: 1.5 }], 6), {
      peakBps: 533_334,
      averageBps: 533_334,
    });
  });

  it('the default target is the longest segment rounded up', () => {
    // target 2: runs of 1–3 s; [1.5 s] alone qualifies
    assert.deepEqual(measureBandwidth([{ bytes: 100_000, durationSeconds: 1.5 }]), {
      peakBps: 533_334,
      averageBps: 533_334,
    });
    const segments = [
      { bytes: 200_000, durationSeconds: 2 },
      { bytes: 400_000, durationSeconds: 2 },
      { bytes: 100_000, durationSeconds: 0.5 },
    ];
    // runs: [0] 800 000, [0,1] 4 s > 3 stop, [1] 1 600 000, [1,2] 2.5 s: 1 600 000, [2] 0.5 s < 1 skip
    assert.deepEqual(measureBandwidth(segments), { peakBps: 1_600_000, averageBps: 1_244_445 });
  });

  it('nothing measured: zeros', () => {
    assert.deepEqual(measureBandwidth([]), { peakBps: 0, averageBps: 0 });
  });
});

describe('writeMasterPlaylist', () => {
  const variants: MasterVariant[] = [
    {
      uri: '720p/index.m3u8',
      bandwidth: 2_900_000,
      averageBandwidth: 1_800_000,
      width: 1280,
      height: 720,
      frameRate: 30000 / 1001,
      codecs: 'avc1.64001f',
    },
    {
      uri: '240p/index.m3u8',
      bandwidth: 390_000.2,
      averageBandwidth: 250_000,
      width: 426,
      height: 240,
      frameRate: 30000 / 1001,
      codecs: 'avc1.640015',
    },
    {
      uri: '480p/index.m3u8',
      bandwidth: 1_400_000,
      averageBandwidth: 900_000,
      width: 854,
      height: 480,
      frameRate: 30000 / 1001,
      codecs: 'avc1.64001f',
    },
  ];

  it('with an audio group: EXT-X-MEDIA, audio added to every variant, sorted by bandwidth', () => {
    const audio = { uri: 'audio/index.m3u8', bandwidth: 140_000, averageBandwidth: 130_000 };
    assert.equal(
      writeMasterPlaylist(variants, audio),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Default",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=530001,AVERAGE-BANDWIDTH=380000,CODECS="avc1.640015,mp4a.40.2",RESOLUTION=426x240,FRAME-RATE=29.970,AUDIO="audio"',
        '240p/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=1540000,AVERAGE-BANDWIDTH=1030000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=854x480,FRAME-RATE=29.970,AUDIO="audio"',
        '480p/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=3040000,AVERAGE-BANDWIDTH=1930000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="audio"',
        '720p/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('audio group options: id, name, language, channels; codecs already listed are not repeated', () => {
    const text = writeMasterPlaylist([{ ...variants[1]!, codecs: 'avc1.640015,mp4a.40.2', frameRate: 60 }], {
      uri: 'a/index.m3u8',
      bandwidth: 0,
      averageBandwidth: 0,
      groupId: 'aac',
      name: 'English',
      language: 'en',
      channels: 6,
    });
    assert.deepEqual(text.split('\n').slice(3, 5), [
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="6",URI="a/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=390001,AVERAGE-BANDWIDTH=250000,CODECS="avc1.640015,mp4a.40.2",RESOLUTION=426x240,FRAME-RATE=60.000,AUDIO="aac"',
    ]);
  });

  it('without audio: no EXT-X-MEDIA, no AUDIO attribute, codecs as given', () => {
    assert.equal(
      writeMasterPlaylist([{ ...variants[0]!, frameRate: 25 }]),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=2900000,AVERAGE-BANDWIDTH=1800000,CODECS="avc1.64001f",RESOLUTION=1280x720,FRAME-RATE=25.000',
        '720p/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('rejects what would corrupt the playlist', () => {
    assert.throws(() => writeMasterPlaylist([]), RangeError);
    assert.throws(() => writeMasterPlaylist([{ ...variants[0]!, uri: 'a\n#EXT-X-ENDLIST' }]), RangeError);
    assert.throws(() => writeMasterPlaylist([{ ...variants[0]!, codecs: 'avc1"' }]), RangeError);
  });
});

/** A media playlist as ffmpeg 5.1's hls muxer writes it while encoding (EVENT, no end yet). */
const GROWING = [
  '#EXTM3U',
  '#EXT-X-VERSION:7',
  '#EXT-X-TARGETDURATION:6',
  '#EXT-X-MEDIA-SEQUENCE:0',
  '#EXT-X-PLAYLIST-TYPE:EVENT',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-MAP:URI="init_720p.mp4"',
  '#EXTINF:6.000000,',
  'seg_00000.m4s',
  '#EXTINF:6.000000,',
  'seg_00001.m4s',
  '',
].join('\n');

describe('parseMediaPlaylist', () => {
  it('reads a growing EVENT playlist', () => {
    assert.deepEqual(parseMediaPlaylist(GROWING), {
      version: 7,
      targetDuration: 6,
      mediaSequence: 0,
      type: 'EVENT',
      mapUri: 'init_720p.mp4',
      segments: [
        { uri: 'seg_00000.m4s', duration: 6 },
        { uri: 'seg_00001.m4s', duration: 6 },
      ],
      ended: false,
    });
  });

  it('reads a finished one, with CRLF line ends and titles after EXTINF', () => {
    const text = `${GROWING.replace('#EXTINF:6.000000,\nseg_00001', '#EXTINF:2.005333,title\nseg_00001')}#EXT-X-ENDLIST\n`;
    const parsed = parseMediaPlaylist(text.replaceAll('\n', '\r\n'));
    assert.deepEqual(parsed.segments, [
      { uri: 'seg_00000.m4s', duration: 6 },
      { uri: 'seg_00001.m4s', duration: 2.005333 },
    ]);
    assert.equal(parsed.ended, true);
  });

  it('a playlist without a type is live (type null)', () => {
    const parsed = parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n');
    assert.deepEqual([parsed.type, parsed.version, parsed.mapUri, parsed.ended], [null, null, null, false]);
  });

  it('rejects text that is not a playlist, and a URI without EXTINF', () => {
    assert.throws(() => parseMediaPlaylist('<html>'), RangeError);
    assert.throws(() => parseMediaPlaylist('#EXTM3U\nseg.m4s\n'), RangeError);
  });
});

describe('toVodPlaylist', () => {
  it('EVENT → VOD, and ends the list', () => {
    assert.equal(
      toVodPlaylist(GROWING),
      GROWING.replace('#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-PLAYLIST-TYPE:VOD').concat('#EXT-X-ENDLIST\n'),
    );
  });

  it('keeps a single EXT-X-ENDLIST when ffmpeg already wrote one, and is idempotent', () => {
    const finished = `${GROWING}#EXT-X-ENDLIST\n`;
    const vod = toVodPlaylist(finished);
    assert.equal(vod.match(/#EXT-X-ENDLIST/g)?.length, 1);
    assert.equal(toVodPlaylist(vod), vod);
    assert.deepEqual(
      [parseMediaPlaylist(vod).type, parseMediaPlaylist(vod).ended, parseMediaPlaylist(vod).segments.length],
      ['VOD', true, 2],
    );
  });

  it('adds the type after EXT-X-TARGETDURATION when there is none; normalises CRLF', () => {
    assert.equal(
      toVodPlaylist('#EXTM3U\r\n#EXT-X-VERSION:7\r\n#EXT-X-TARGETDURATION:6\r\n#EXTINF:6,\r\nseg.m4s\r\n'),
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6,\nseg.m4s\n#EXT-X-ENDLIST\n',
    );
  });

  it('rejects text that is not a playlist', () => {
    assert.throws(() => toVodPlaylist(''), RangeError);
  });
});
