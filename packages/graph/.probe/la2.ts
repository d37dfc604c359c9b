import { runOp, rnd, cmp } from './h';
import { linearAttention } from '../src/contrib/oracles';
const B=2,T=5,dk=4,dv=3;
async function t(hq:number,hkv:number,hk:number, rule:any, opts: {perKey?: boolean, betaOne?: boolean, past?: boolean, scale?: number} = {}) {
  const q=rnd(B*T*hq*dk), k=rnd(B*T*hk*dk), v=rnd(B*T*hkv*dv);
  const decay = rule.includes('gated') ? rnd(B*T*(opts.perKey? hkv*dk: hkv), 0.5).map(x=>x-0.5) : undefined;
  const beta = rule.includes('delta') ? rnd(B*T*(opts.betaOne?1:hkv)).map(x=>0.5+0.4*x) : undefined;
  const past = opts.past ? rnd(B*hkv*dk*dv) : undefined;
  const feeds:any[] = [
    {name:'q',dtype:'float32',dims:[B,T,hq*dk],data:q},
    {name:'k',dtype:'float32',dims:[B,T,hk*dk],data:k},
    {name:'v',dtype:'float32',dims:[B,T,hkv*dv],data:v},
    past ? {name:'p',dtype:'float32',dims:[B,hkv,dk,dv],data:past} : null,
    decay ? {name:'g',dtype:'float32',dims:[B,T,decay.length/(B*T)],data:decay} : null,
    beta ? {name:'b',dtype:'float32',dims:[B,T,beta.length/(B*T)],data:beta} : null,
  ];
  while (feeds[feeds.length-1]===null) feeds.pop();
  const attrs:any = {q_num_heads:{type:'int',value:hq},kv_num_heads:{type:'int',value:hkv},update_rule:{type:'string',value:rule}};
  if (opts.scale) attrs.scale = {type:'float', value: opts.scale};
  try {
    const r = await runOp('LinearAttention','com.microsoft',feeds,[['o',3],['s',4]],attrs);
    const ref = linearAttention({batchSize:B,seqLen:T,qNumHeads:hq,kvNumHeads:hkv,updateRule:rule,query:q,key:k,value:v,pastState:past,decay,beta,scale:opts.scale});
    const lab = `${rule} q${hq} kv${hkv} k${hk} ${JSON.stringify(opts)}`;
    cmp(lab+' out', r.o.data as any, ref.output); cmp(lab+' state', r.s.data as any, ref.presentState);
  } catch(e:any) { console.log(hq,hkv,hk,rule,'ERR', e.message.slice(0,300)); }
}
for (const rule of ['linear','gated','delta','gated_delta']) { await t(2,2,2,rule); await t(2,2,2,rule,{past:true}); }
await t(4,2,2,'gated'); await t(2,4,4,'gated'); await t(2,4,2,'gated'); await t(4,4,2,'gated_delta'); await t(4,4,1,'gated',{past:true});
await t(2,2,2,'gated',{perKey:true}); await t(2,2,2,'gated_delta',{perKey:true, betaOne:true, past:true}); await t(2,2,2,'gated',{scale:1});
await t(8,8,2,'gated',{perKey:true, past:true, scale: 1});
