import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeBus } from './change-bus.ts';

export interface ChangeBusSubject {
  bus: ChangeBus;
  cleanup(): Promise<void>;
}

/** What every ChangeBus does within one process. Registers a node:test suite. */
export function changeBusContract(name: string, make: () => Promise<ChangeBusSubject>, skip?: string) {
  describe(`ChangeBus contract: ${name}`, { skip }, () => {
    let subject: ChangeBusSubject;
    let bus: ChangeBus;
    let topicSeq = 0;
    const freshTopic = () => `topic-${process.pid}-${Date.now()}-${topicSeq++}`;
    before(async () => {
      subject = await make();
      bus = subject.bus;
    });
    after(() => subject?.cleanup());

    it("runs this process's listeners before publish resolves", async () => {
      const topic = freshTopic();
      const heard: string[] = [];
      bus.subscribe(topic, async (id) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        heard.push(id);
      });
      await bus.publish(topic, 'v1');
      assert.deepEqual(heard, ['v1']);
    });

    it('changes the generation of the topic, and only of that topic', async () => {
      const topic = freshTopic();
      const other = freshTopic();
      bus.subscribe(topic, () => {});
      bus.subscribe(other, () => {});
      const before = bus.generation(topic);
      await bus.publish(topic, 'v1');
      const afterOne = bus.generation(topic);
      assert.notEqual(afterOne, before);
      const otherBefore = bus.generation(other);
      await bus.publish(topic, 'v2');
      assert.notEqual(bus.generation(topic), afterOne);
      assert.equal(bus.generation(other), otherBefore);
    });

    it('delivers a topic to its own listeners only, until they unsubscribe', async () => {
      const topic = freshTopic();
      const heard: string[] = [];
      const elsewhere: string[] = [];
      const stop = bus.subscribe(topic, (id) => void heard.push(id));
      bus.subscribe(freshTopic(), (id) => void elsewhere.push(id));
      await bus.publish(topic, 'a');
      stop();
      await bus.publish(topic, 'b');
      assert.deepEqual(heard, ['a']);
      assert.deepEqual(elsewhere, []);
    });

    it('announces several ids at once: each is heard, the generation moves', async () => {
      const topic = freshTopic();
      const heard: string[] = [];
      bus.subscribe(topic, (id) => void heard.push(id));
      const before = bus.generation(topic);
      await bus.publish(topic, ['a', 'b', 'c']);
      assert.deepEqual(heard.sort(), ['a', 'b', 'c']);
      assert.notEqual(bus.generation(topic), before);
    });

    it('a failing listener neither rejects the publish nor stops the others', async () => {
      const topic = freshTopic();
      const heard: string[] = [];
      bus.subscribe(topic, () => {
        throw new Error('listener broke');
      });
      bus.subscribe(topic, (id) => void heard.push(id));
      await bus.publish(topic, 'x');
      assert.deepEqual(heard, ['x']);
    });
  });
}
