import { describe, expect, it } from 'vitest';
import { rewritePgCatalog } from '../src/rewrite/pg-catalog.js';

// The catalog-query rewrites each client in test/clients/ depends on, one statement shape each.

describe('rewritePgCatalog, catalog queries of the client families', () => {
  it("names a FROM generate_series' columns as written (pgJDBC's pos(n))", () => {
    expect(rewritePgCatalog('SELECT pos.n FROM pg_catalog.pg_class c, pg_catalog.generate_series(1, 32) pos(n)'))
      .toBe('SELECT pos.n FROM pg_class c, generate_series(1, 32) pos(n)');
    expect(rewritePgCatalog('SELECT s FROM pg_catalog.generate_series(0, 3) s, pg_catalog.pg_attribute'))
      .toBe('SELECT s FROM generate_series(0, 3) s(s), pg_attribute');
  });

  it('returns rows from generate_series in a select list (psqlODBC)', () => {
    expect(rewritePgCatalog('select conkey, generate_series(array_lower(conkey, 1), array_upper(conkey, 1)) as i from pg_catalog.pg_constraint'))
      .toBe('select conkey, unnest(generate_series(array_lower(conkey, 1), array_upper(conkey, 1))) as i from pg_constraint');
  });

  it('reads pg_index int2vectors from subscript 0 and as space-separated text, and sends them bare as int2vector', () => {
    expect(rewritePgCatalog('SELECT 1 FROM pg_catalog.pg_index i WHERE ta.attnum = i.indkey[ia.attnum-1]'))
      .toBe('SELECT 1 FROM pg_index i WHERE ta.attnum = i.indkey[(ia.attnum-1) + 1]');
    expect(rewritePgCatalog('SELECT ix.indkey::varchar, ix.indoption::varchar FROM pg_index ix'))
      .toBe("SELECT array_to_string(ix.indkey, ' '), array_to_string(ix.indoption, ' ') FROM pg_index ix");
    expect(rewritePgCatalog('select c.relname, i.indkey, i.indisunique from pg_catalog.pg_index i'))
      .toBe('select c.relname, aiduck_int2vector_out(i.indkey) AS indkey, i.indisunique from pg_index i');
    expect(rewritePgCatalog('SELECT unnest(ix.indkey) attnum FROM pg_index ix')).toBe('SELECT unnest(ix.indkey) attnum FROM pg_index ix');
  });

  it("calls pgJDBC's information_schema._pg_expandarray", () => {
    expect(rewritePgCatalog('SELECT (information_schema._pg_expandarray(i.indkey)).n FROM pg_catalog.pg_index i'))
      .toBe('SELECT (_pg_expandarray(i.indkey)).n FROM pg_index i');
  });

  it("looks up a function's OID for psql's \\sf, and a relation named by a function's result", () => {
    expect(rewritePgCatalog("SELECT 'shop.add_tax'::pg_catalog.regproc::pg_catalog.oid")).toBe("SELECT aiduck_regproc('shop.add_tax')::INTEGER");
    expect(rewritePgCatalog("SELECT typinput='pg_catalog.array_in'::regproc FROM pg_type")).toBe("SELECT typinput='array_in' FROM pg_type");
    expect(rewritePgCatalog('SELECT pg_catalog.pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass::oid FROM pg_attribute a'))
      .toBe('SELECT aiduck_regclass(pg_get_serial_sequence(aiduck_regclass_name(a.attrelid), a.attname))::INTEGER FROM pg_attribute a');
  });

  it("compares types and names type lists (pgcli's function list)", () => {
    expect(rewritePgCatalog("SELECT proargtypes::regtype[] FROM pg_catalog.pg_proc p WHERE p.prorettype::regtype != 'trigger'::regtype"))
      .toBe("SELECT list_transform(proargtypes, type_oid_ -> aiduck_builtin_type_name(type_oid_)) FROM pg_proc p WHERE p.prorettype != aiduck_regtype('trigger')");
  });

  it('tests membership in an array parameter (pgcli) and moves pg_partition_ancestors to FROM (psql)', () => {
    expect(rewritePgCatalog('SELECT 1 FROM pg_catalog.pg_class c WHERE c.relkind = ANY($1)')).toBe('SELECT 1 FROM pg_class c WHERE list_contains($1, c.relkind)');
    expect(rewritePgCatalog("SELECT 1 FROM pg_constraint WHERE confrelid IN (SELECT pg_catalog.pg_partition_ancestors('16385'))"))
      .toBe("SELECT 1 FROM pg_constraint WHERE confrelid IN (SELECT relid FROM pg_partition_ancestors('16385'))");
  });
});
