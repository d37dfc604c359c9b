import { runOp, rnd, cmp } from './h';
import { linearAttention } from '../src/contrib/oracles';
async function t(B:number,T:number,hq:number,hkv:number,hk:number,dk:number,dv:number, rule:any, perKey=false) {
  const q=rnd(B*T*hq*dk,0.3), k=rnd(B*T*hk*dk,0.3), v=rnd(B*T*hkv*dv);
  const decay = rnd(B*T*(perKey? hkv*dk: hkv), 0.1).map(x=>x-0.1);
  const beta = rule.includes('delta') ? rnd(B*T*hkv).map(x=>0.5+0.4*x) : undefined;
  const past = rnd(B*hkv*dk*dv);
  const feeds:any[] = [
    {name:'q',dtype:'float32',dims:[B,T,hq*dk],data:q}, {name:'k',dtype:'float32',dims:[B,T,hk*dk],data:k},
    {name:'v',dtype:'float32',dims:[B,T,hkv*dv],data:v}, {name:'p',dtype:'float32',dims:[B,hkv,dk,dv],data:past},
    {name:'g',dtype:'float32',dims:[B,T,decay.length/(B*T)],data:decay},
    beta ? {name:'b',dtype:'float32',dims:[B,T,hkv],data:beta} : null];
  while (feeds[feeds.length-1]===null) feeds.pop();
  const t0=Date.now();
  const r = await runOp('LinearAttention','com.microsoft',feeds,[['o',3],['s',4]],{q_num_heads:{type:'int',value:hq},kv_num_heads:{type:'int',value:hkv},update_rule:{type:'string',value:rule},scale:{type:'float',value:1}});
  const t1=Date.now();
  const ref = linearAttention({batchSize:B,seqLen:T,qNumHeads:hq,kvNumHeads:hkv,updateRule:rule,query:q,key:k,value:v,pastState:past,decay,beta,scale:1});
  const lab = `${rule} B${B} T${T} q${hq} kv${hkv} k${hk} dk${dk} dv${dv} pk${perKey} (${t1-t0}ms ort, ${Date.now()-t1}ms ts)`;
  cmp(lab+' out', r.o.data as any, ref.output); cmp(lab+' state', r.s.data as any, ref.presentState);
}
await t(1,100,4,4,2,64,64,'gated');
await t(1,100,4,4,2,64,64,'gated_delta');
// Mamba-1 mapping: d_v = 1, per-key-dim decay, kv heads = channels, key heads = groups, q heads = groups (inverse GQA)
await t(1,20,4,64,4,16,1,'gated',true);
