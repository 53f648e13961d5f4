import { expect } from 'chai';
import { RECONCILER_DOC, type ReconcilerDoc } from '../../../src/service/state-docs.js';
import { IMAGES_DOC, establishedOf, imagesDoc } from '../../../src/shared/worker-docs.js';
import { policy } from '../../support/builders.js';
import { SimFleet } from '../../support/sim-fleet.js';

describe('images.json: the proved images workers read', () => {
  it('holds per pool and region the proved images, and reads back as the planner keys them', () => {
    const established = { 'bld-linux64 us-east-1 ami-1': 5, 'bld-linux64 us-west-2 ami-2': 6, 'tst-linux64 us-east-1 ami-3': 7 };
    const doc = imagesDoc(established);
    expect(doc).to.deep.equal({
      version: 1,
      proved: {
        'bld-linux64': { 'us-east-1': { 'ami-1': 5 }, 'us-west-2': { 'ami-2': 6 } },
        'tst-linux64': { 'us-east-1': { 'ami-3': 7 } },
      },
    });
    expect(establishedOf(JSON.parse(JSON.stringify(doc)))).to.deep.equal(established);
    expect(() => establishedOf({ version: 1 })).to.throw(/proved/);
  });

  it('the service publishes it with its journal, and nothing else of the journal (no user data)', async () => {
    const fleet = new SimFleet({ policies: [policy({ userData: '#cloud-config\nsecret: s3cr3t\n' })] });
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(3);
    // Its workers bake: the image proves itself.
    fleet.advance(24 * 3600_000);
    await fleet.cycles(1);
    const journal = (await fleet.runtime.state.read<ReconcilerDoc>(RECONCILER_DOC))?.doc as ReconcilerDoc;
    const published = await fleet.runtime.state.read<unknown>(IMAGES_DOC);
    expect(Object.keys(journal.established)).to.have.length.greaterThan(0);
    expect(published?.doc).to.deep.equal(imagesDoc(journal.established));
    expect(JSON.stringify(published?.doc)).not.to.include('s3cr3t');
    // Unchanged: not written again.
    await fleet.cycles(1);
    expect((await fleet.runtime.state.read<unknown>(IMAGES_DOC))?.etag).to.equal(published?.etag);
  });
});
