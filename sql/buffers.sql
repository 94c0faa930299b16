-- Buffer nodes: every accepted form, the canonical output, and the errors.
SET search_path = whatsapp_auth, public;

-- buffer_encode always emits padded standard base64
SELECT buffer_encode('\x'::bytea) AS empty,
       buffer_encode('\x01'::bytea) AS one,
       buffer_encode('\x0102'::bytea) AS two,
       buffer_encode('\xfbff'::bytea) AS no_url_alphabet;

-- buffer_decode accepts each form Baileys and Node write
SELECT buffer_decode('{"type":"Buffer","data":"AQID"}') AS base64,
       buffer_decode('{"type":"Buffer","data":"AQI"}') AS unpadded,
       buffer_decode('{"type":"Buffer","data":"-_8="}') AS url_safe,
       buffer_decode('{"type":"Buffer","data":[1,2,3]}') AS byte_array,
       buffer_decode('{"type":"Buffer","data":[7.0, 255]}') AS integral_numbers,
       buffer_decode('{"buffer":true,"value":"AQID"}') AS legacy,
       buffer_decode('{"buffer":true,"value":[1,2,3]}') AS legacy_array,
       buffer_decode('{"0":1,"1":2,"2":3}') AS uint8array_object,
       buffer_decode('{"type":"Buffer","data":""}') AS empty,
       buffer_decode('{"type":"Buffer","data":[]}') AS empty_array;

-- round trip of every byte value
SELECT buffer_decode(buffer_encode(b)) = b AS round_trip
FROM (SELECT string_agg(set_byte('\x00'::bytea, 0, i), ''::bytea ORDER BY i) AS b
      FROM generate_series(0, 255) i) s;

-- normalisation anywhere in a tree; other values untouched
SELECT buffers_normalize('{
  "noiseKey": {"private": {"type":"Buffer","data":[1,2,3]},
               "public": {"buffer":true,"value":"AQID"}},
  "list": [{"0":255,"1":0}, {"type":"Buffer","data":"AQI"}, [1,2,3]],
  "signalRecord": "BedYijQ0FYtUO0026L9t4nXOUq8t0sz4DOZm5NGuxo99",
  "fingerprint": {"rawId": 1000, "deviceIndexes": [0, 1, 12]},
  "notBytes": {"0": 1, "1": 256},
  "sparse": {"0": 1, "2": 2},
  "leadingZero": {"0": 1, "01": 2},
  "empty": {}
}');

-- already canonical input comes back unchanged
SELECT buffers_normalize(d) = d AS unchanged
FROM (VALUES ('{"a":{"type":"Buffer","data":"AQID"},"b":[1,"x",null,true]}'::jsonb),
             ('"plain"'::jsonb), ('[]'::jsonb), ('{}'::jsonb)) v(d);

-- jsonb_buffer follows keys and array indexes
SELECT jsonb_buffer('{"a":{"b":[{"type":"Buffer","data":"AQID"}]}}', 'a', 'b', '0') AS found,
       jsonb_buffer('{"a":{}}', 'a', 'missing') AS missing_key,
       jsonb_buffer('{"a":[]}', 'a', '3') AS missing_index,
       jsonb_buffer('{"a":1}', 'a', 'b') AS through_scalar;

-- errors name the JSON path, never the key material
SELECT buffer_decode('{"type":"Buffer","data":[1,2,256]}');
SELECT buffer_decode('{"type":"Buffer","data":[1,-1]}');
SELECT buffer_decode('{"type":"Buffer","data":[1,1.5]}');
SELECT buffer_decode('{"type":"Buffer","data":[1,"2"]}');
SELECT buffer_decode('{"type":"Buffer","data":"AQ$D"}');
SELECT buffer_decode('{"type":"Buffer","data":"AQIDB"}');
SELECT buffer_decode('{"type":"Buffer","data":"AQ=D"}');
SELECT buffer_decode('{"type":"Buffer","data":7}');
SELECT buffer_decode('{"type":"Buffer"}');
SELECT buffer_decode('{"type":"Buffer","data":"AQID","extra":1}');
SELECT buffer_decode('{"buffer":true,"value":{"0":1}}');
SELECT buffer_decode('{"type":"Other","data":"AQID"}');
SELECT buffer_decode('"AQID"');
-- every path that finds no Buffer gives the same hinted error, scalars included
SELECT buffer_decode('1');
SELECT jsonb_buffer('1', VARIADIC '{}'::text[]);
SELECT buffers_normalize('{"pre-key":{"17":{"private":{"type":"Buffer","data":[1,2,3,300]}}}}');
SELECT buffers_normalize('{"a":[{"x":{"type":"Buffer","data":"%%%%"}}]}');
SELECT buffers_normalize('{"we\"ird key":{"type":"Buffer","data":[999]}}');
SELECT jsonb_buffer('{"a":{"b":"text"}}', 'a', 'b');
SELECT jsonb_buffer('{"a":{"b":{"c":1}}}', 'a', 'b');
