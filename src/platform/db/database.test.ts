import { forEachDatabase } from '../../../test/support/databases.ts';
import { databaseContract } from './database.contract.ts';

forEachDatabase('the database contract', databaseContract);
