import { runOp, rnd } from './h';
const B=1,T=3,dk=4,dv=2;
async function t(hq:number,hkv:number,hk:number, rule='gated', decayLast?: number) {
  try {
    const feeds:any[] = [
      {name:'q',dtype:'float32',dims:[B,T,hq*dk],data:rnd(B*T*hq*dk)},
      {name:'k',dtype:'float32',dims:[B,T,hk*dk],data:rnd(B*T*hk*dk)},
      {name:'v',dtype:'float32',dims:[B,T,hkv*dv],data:rnd(B*T*hkv*dv)},
      null,
      {name:'g',dtype:'float32',dims:[B,T,decayLast ?? hkv],data:rnd(B*T*(decayLast??hkv),0.5)},
    ];
    const r = await runOp('LinearAttention','com.microsoft',feeds,[['o',3],['s',4]],{q_num_heads:{type:'int',value:hq},kv_num_heads:{type:'int',value:hkv},update_rule:{type:'string',value:rule}});
    console.log(hq,hkv,hk,'->', r.o.dims, r.s.dims);
  } catch(e:any) { console.log(hq,hkv,hk,'ERR', e.message.slice(0,300)); }
}
await t(2,2,2); await t(4,2,2); await t(2,4,4); await t(2,4,2); await t(4,4,2); await t(4,4,1); await t(2,2,2,'gated',2*dk);
