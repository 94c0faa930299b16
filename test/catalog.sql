-- Everything CREATE EXTENSION whatsapp_auth defines, one line per fact, in
-- a stable order: test/upgrade_test diffs an updated database against a
-- fresh install with it.  OIDs never appear, only names and definitions.
WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'whatsapp_auth'),
rel AS (SELECT c.* FROM pg_class c WHERE c.relnamespace = 'whatsapp_auth'::regnamespace)
SELECT fact FROM (
	SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
	  FROM pg_depend d, ext WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
	UNION ALL
	SELECT format('extension version=%s relocatable=%s schema=%s config=%s conditions=%s',
				  e.extversion, e.extrelocatable, e.extnamespace::regnamespace,
				  (SELECT array_agg(c::regclass::text ORDER BY c::regclass::text) FROM unnest(e.extconfig) c),
				  (SELECT array_agg(x ORDER BY x) FROM unnest(e.extcondition) x))
	  FROM pg_extension e WHERE e.extname = 'whatsapp_auth'
	UNION ALL
	SELECT format('routine %s kind=%s volatile=%s strict=%s parallel=%s secdef=%s acl=%s comment=%s%s%s',
				  p.oid::regprocedure, p.prokind, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef,
				  p.proacl, obj_description(p.oid, 'pg_proc'), E'\n', pg_get_functiondef(p.oid))
	  FROM pg_proc p WHERE p.pronamespace = 'whatsapp_auth'::regnamespace
	UNION ALL
	SELECT format('relation %s kind=%s rls=%s force_rls=%s options=%s acl=%s comment=%s',
				  r.relname, r.relkind, r.relrowsecurity, r.relforcerowsecurity, r.reloptions, r.relacl,
				  obj_description(r.oid, 'pg_class'))
	  FROM rel r
	UNION ALL
	SELECT format('column %s.%s #%s %s not_null=%s default=%s generated=%s collation=%s storage=%s comment=%s',
				  r.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
				  pg_get_expr(ad.adbin, ad.adrelid), a.attgenerated, a.attcollation::regcollation, a.attstorage,
				  col_description(r.oid, a.attnum))
	  FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
	UNION ALL
	SELECT format('constraint %s on %s: %s', co.conname,
				  coalesce(co.conrelid::regclass::text, co.contypid::regtype::text), pg_get_constraintdef(co.oid))
	  FROM pg_constraint co WHERE co.connamespace = 'whatsapp_auth'::regnamespace
	UNION ALL
	SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN rel r ON r.oid = i.indrelid
	UNION ALL
	SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
	UNION ALL
	SELECT format('policy %s on %s cmd=%s permissive=%s roles=%s using=%s check=%s comment=%s',
				  po.policyname, po.tablename, po.cmd, po.permissive, po.roles, po.qual, po.with_check,
				  (SELECT obj_description(pp.oid, 'pg_policy') FROM pg_policy pp
				    WHERE pp.polname = po.policyname AND pp.polrelid = ('whatsapp_auth.' || po.tablename)::regclass))
	  FROM pg_policies po WHERE po.schemaname = 'whatsapp_auth'
	UNION ALL
	SELECT format('type %s %s not_null=%s collation=%s comment=%s', t.typname, format_type(t.typbasetype, t.typtypmod),
				  t.typnotnull, t.typcollation::regcollation, obj_description(t.oid, 'pg_type'))
	  FROM pg_type t WHERE t.typnamespace = 'whatsapp_auth'::regnamespace AND t.typtype = 'd'
	UNION ALL
	SELECT format('sequence %s %s start=%s increment=%s', s.seqrelid::regclass, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement)
	  FROM pg_sequence s JOIN rel r ON r.oid = s.seqrelid
	UNION ALL
	SELECT format('schema %s acl=%s comment=%s', n.nspname, n.nspacl, obj_description(n.oid, 'pg_namespace'))
	  FROM pg_namespace n WHERE n.nspname = 'whatsapp_auth'
	UNION ALL
	SELECT format('key_ttl %s=%s shipped=%s', k.key_type, k.ttl, k.shipped) FROM whatsapp_auth.key_ttl k
) facts(fact)
ORDER BY fact;
