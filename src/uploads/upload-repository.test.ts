import { forEachDatabase } from '../../test/support/databases.ts';
import { uploadRepositoryContract } from './upload-repository.contract.ts';

forEachDatabase('the upload repository contract', uploadRepositoryContract, { migrated: true });
