#!/usr/bin/env python3
"""Attribute a wasm module's size by provider/module, from the name section.

Usage: python3 scripts/wasm-attribution.py /tmp/named.wasm [GROUP [N]]
(build /tmp/named.wasm as WASM-SIZE.md says). Function bodies are grouped by
their (demangled) names; each group is gzipped on its own ("gz-alone"), so the
groups add up to a little more than the module's gzip size: scale them to it.
With GROUP, also lists that group's N largest functions. Generic code inlined
into a caller counts for the caller (a provider's `load::<T>` is the provider's).
"""
import collections, sys, zlib

data = open(sys.argv[1],'rb').read()
def leb(b, i):
    r=s=0
    while True:
        x=b[i]; i+=1; r|=(x&0x7f)<<s; s+=7
        if x<0x80: return r,i
i=8; sections=[]
while i<len(data):
    sid=data[i]; i+=1; n,i=leb(data,i); sections.append((sid,i,i+n)); i+=n
nimports=0; bodies=[]; names={}; datasegs=[]
for sid,a,b in sections:
    if sid==2:
        cnt,j=leb(data,a)
        for _ in range(cnt):
            for _ in range(2):
                l,j=leb(data,j); j+=l
            kind=data[j]; j+=1
            if kind==0: _,j=leb(data,j); nimports+=1
            elif kind==1: j+=1; fl=data[j]; j+=1; _,j=leb(data,j); 
            elif kind==2:
                fl=data[j]; j+=1; _,j=leb(data,j)
                if fl&1: _,j=leb(data,j)
            elif kind==3: j+=2
            elif kind==4: j+=1; _,j=leb(data,j)
    if sid==10:
        cnt,j=leb(data,a)
        for _ in range(cnt):
            l,j=leb(data,j); bodies.append(data[j:j+l]); j+=l
    if sid==11:
        datasegs.append(data[a:b])
    if sid==0:
        l,j=leb(data,a); nm=data[j:j+l].decode(); j+=l
        if nm=='name':
            while j<b:
                sub=data[j]; j+=1; sl,j=leb(data,j); end=j+sl
                if sub==1:
                    cnt,k=leb(data,j)
                    for _ in range(cnt):
                        idx,k=leb(data,k); l,k=leb(data,k); names[idx]=data[k:k+l].decode('utf8','replace'); k+=l
                j=end
def cat(n):
    l=n.lower()
    if 'sync' in l and 'wattbridge' in l and ('::sync' in l): return 'sync'
    if 'syncsession' in l or 'jssync' in l: return 'sync'
    for p in ['jeedom','homeassistant','linky','weheat','energyid','oauth']:
        if p in l: return p
    if 'wattbridge::core' in l: return 'core'
    if 'wattbridge::wasm' in l or 'wattbridge::' in l: return 'wasm-glue'
    if 'serde_json' in l: return 'serde_json'
    if 'serde' in l: return 'serde'
    if 'wasm_bindgen' in l or 'js_sys' in l or 'web_sys' in l or 'externref' in l or 'getrandom' in l or 'talc' in l: return 'wasm-bindgen/rt'
    if 'fmt' in l or 'f64' in l or 'float' in l or 'flt2dec' in l or 'dragon' in l or 'grisu' in l: return 'std/fmt'
    if 'alloc::' in l or 'btree' in l: return 'alloc'
    return 'other-std'
groups=collections.defaultdict(list)
for k,bd in enumerate(bodies):
    n=names.get(k+nimports,'?')
    groups[cat(n)].append(bd)
allcode=b''.join(bodies)
tot_raw=len(data); tot_gz=len(zlib.compress(data,9))
print('total module raw %d gz %d; code %d gz %d; data %d gz %d'%(tot_raw,tot_gz,len(allcode),len(zlib.compress(allcode,9)), sum(map(len,datasegs)), len(zlib.compress(b''.join(datasegs),9))))
rows=[]
for g,bs in groups.items():
    c=b''.join(bs); rows.append((g,len(bs),len(c),len(zlib.compress(c,9))))
s=sum(r[3] for r in rows)
for g,n,r,z in sorted(rows,key=lambda r:-r[3]):
    print('%-16s fns %4d raw %7d gz-alone %6d  share %5.1f%%'%(g,n,r,z,100*z/s))
if len(sys.argv)>2:
    want=sys.argv[2]
    fs=[(len(bodies[k]),names.get(k+nimports,'?')) for k in range(len(bodies)) if cat(names.get(k+nimports,'?'))==want]
    for sz,n in sorted(fs,reverse=True)[:int(sys.argv[3]) if len(sys.argv)>3 else 40]: print(sz,n[:150])
