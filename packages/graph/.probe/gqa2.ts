import { runOp, rnd } from './h';
import { groupQueryAttention } from '../src/contrib/oracles';
const N=4,Nkv=2,H=16,B=2,S=5;
const query=rnd(B*S*N*H), key=rnd(B*S*Nkv*H), value=rnd(B*S*Nkv*H);
const seqlens=[4,2];
const feeds:any[]=[{name:'q',dtype:'float32',dims:[B,S,N*H],data:query},{name:'k',dtype:'float32',dims:[B,S,Nkv*H],data:key},{name:'v',dtype:'float32',dims:[B,S,Nkv*H],data:value},null,null,
 {name:'sl',dtype:'int32',dims:[B],data:new Int32Array(seqlens)},{name:'tl',dtype:'int32',dims:[],data:new Int32Array([S])}];
const r = await runOp('GroupQueryAttention','com.microsoft',feeds,[['o',3],['a',4],['b',4]],{num_heads:{type:'int',value:N},kv_num_heads:{type:'int',value:Nkv}});
const ref = groupQueryAttention({batchSize:B,sequenceLength:S,numHeads:N,kvNumHeads:Nkv,headSize:H,query,key,value,seqlensK:seqlens,totalSequenceLength:S});
const o = r.o.data as Float32Array;
// full causal without padding limit
const full = groupQueryAttention({batchSize:B,sequenceLength:S,numHeads:N,kvNumHeads:Nkv,headSize:H,query,key,value,seqlensK:[4,4],totalSequenceLength:S});
for (let b=0;b<B;b++) for (let s=0;s<S;s++) { let d=0, df=0, mx=0; for (let i=0;i<N*H;i++){ const idx=(b*S+s)*N*H+i; d=Math.max(d,Math.abs(o[idx]-ref.output[idx])); df=Math.max(df,Math.abs(o[idx]-full.output[idx])); mx=Math.max(mx,Math.abs(o[idx])); } console.log(b,s,'diff',d.toExponential(2),'diffFull',df.toExponential(2),'max',mx.toFixed(3)); }
const pk = r.a.data as Float32Array; let z=0; for (let s=3;s<5;s++) for(let h=0;h<H;h++) z=Math.max(z,Math.abs(pk[((1*Nkv+0)*S+s)*H+h])); console.log('present_k padded rows max', z);
