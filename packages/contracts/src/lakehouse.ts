// Wire shapes of the lakehouse surfaces: Unity Catalog REST and the Statement Execution API.
export * as sql from './sql.ts';
export * as unityCatalog from './unity-catalog.ts';
